import { UsageError } from '../../command.ts';
import type { VaultAction } from './action.ts';

interface Report {
  vaults: number;
  servers: number;
  packs: number;
  points: number;
  softDeleted: number;
  problems: string[];
}

const rebuild: VaultAction = {
  name: 'rebuild-catalog',
  usage: 'rebuild-catalog',
  summary: "bring back from storage everything the server's catalog lacks (after losing it)",
  async run(ctx, client, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
    const report = (await (await client()).call('POST', '/v1/admin/rebuild-catalog')) as Report;
    ctx.out.data(report);
    ctx.out.line(
      `restored ${report.vaults} vaults, ${report.servers} servers, ${report.points} recovery points ` +
        `(${report.softDeleted} soft-deleted) and ${report.packs} packs from storage`,
    );
    for (const problem of report.problems) ctx.out.line(`not restored: ${problem}`);
    return report.problems.length > 0 ? 1 : 0;
  },
};

export const REBUILD_ACTIONS: VaultAction[] = [rebuild];

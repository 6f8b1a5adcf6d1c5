import { UsageError } from '../../command.ts';
import { formatBytes } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// Geo-redundancy operations: promoting a vault's secondary region after losing its primary.

interface Promotion {
  vault: { name: string; region: string };
  previousRegion: string;
  forced: boolean;
  lostPoints: number;
  lostPacks: number;
  lostBytes: number;
}

const promote: VaultAction = {
  name: 'promote-secondary',
  usage: 'promote-secondary NAME [--force]',
  summary: "make a vault's secondary region its region after losing the primary (owner)",
  options: { force: { type: 'boolean' } },
  optionHelp: [
    ['--force', 'promote-secondary: even if the secondary lacks recovery points (they are recorded as lost)'],
  ],
  async run(ctx, client, args) {
    if (args.length !== 1) throw new UsageError('promote-secondary needs exactly one vault NAME');
    const force = ctx.values.force === true;
    const name = args[0]!;
    const body = force ? { force: true } : {};
    const done = (await (
      await client()
    ).call('POST', vaultPath(name, '/promote-secondary'), body)) as Promotion;
    ctx.out.data(done);
    ctx.out.line(
      `vault ${done.vault.name} now lives in region ${done.vault.region} (was ${done.previousRegion}); ` +
        'it has no secondary region: set one with vault set NAME --secondary-region S',
    );
    if (done.lostPoints > 0 || done.lostPacks > 0) {
      ctx.out.line(
        `lost: ${done.lostPoints} recovery points and ${done.lostPacks} packs (${formatBytes(done.lostBytes)}) ` +
          'the secondary did not have; the next backups store their data again',
      );
    }
    return 0;
  },
};

export const GEO_ACTIONS: VaultAction[] = [promote];

import { listSnapshots, shortId } from '../../repo/index.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, snapshotFilter } from '../command.ts';
import { formatBytes, table } from '../output.ts';

export const snapshotsCommand: Command = {
  name: 'snapshots',
  summary: 'list snapshots (recovery points)',
  usage: 'offsite snapshots [--host NAME] [--tag TAG] [--path PATH] [--from-server NAME]',
  details:
    "--from-server NAME lists the recovery points of another server of this agent's vault:\n" +
    "give that server's passphrase (--password-file, $OFFSITE_PASSWORD...). It is used here\n" +
    'to unlock the key and never sent to the vault.',
  options: {
    ...REPO_OPTIONS,
    host: { type: 'string' },
    tag: { type: 'string', multiple: true },
    path: { type: 'string', multiple: true },
    'from-server': { type: 'string' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--host NAME', 'only snapshots of this host'],
    ['--tag TAG', 'only snapshots with this tag; repeatable'],
    ['--path PATH', 'only snapshots of exactly these paths; repeatable'],
    ['--from-server NAME', 'the snapshots of another server of this vault (its passphrase)'],
  ],
  async run(ctx) {
    const repo = await openRepository(ctx, { index: false });
    const refs = await listSnapshots(repo, snapshotFilter(ctx.values));
    ctx.out.data(refs.map((r) => ({ id: r.id, short_id: shortId(r.id), ...r.snapshot })));
    if (ctx.out.json) return 0;
    const rows = [['ID', 'Time', 'Host', 'Tags', 'Size', 'Paths']];
    for (const { id, snapshot: s } of refs) {
      const time = new Date(s.time).toISOString().replace('T', ' ').slice(0, 19);
      rows.push([
        shortId(id),
        time,
        s.hostname,
        s.tags.join(','),
        formatBytes(s.stats.bytesProcessed),
        s.paths.join(' '),
      ]);
    }
    ctx.out.line(table(rows));
    ctx.out.line(`${refs.length} snapshots`);
    return 0;
  },
};

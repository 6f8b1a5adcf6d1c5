import { restoreToPostgres } from '../../agent/sources/index.ts';
import type { Repository, SnapshotRef } from '../../repo/index.ts';
import { shortId } from '../../repo/index.ts';
import { type CommandContext, list, str, UsageError } from '../command.ts';
import { formatBytes } from '../output.ts';

// `offsite restore SNAPSHOT --to-postgres URL`: the part of the restore command that
// feeds a --postgres snapshot to pg_restore instead of writing files.

export const TO_POSTGRES_HELP: [string, string] = [
  '--to-postgres URL',
  'restore a --postgres snapshot into this existing database (pg_restore, one transaction)',
];

export async function restoreIntoPostgres(
  ctx: CommandContext,
  repo: Repository,
  snapshot: SnapshotRef,
  url: string,
): Promise<number> {
  if (str(ctx.values, 'target') !== undefined || ctx.values['in-place'] === true)
    throw new UsageError('--to-postgres restores into a database: give no --target or --in-place');
  const includes = list(ctx.values, 'include');
  if (includes.length > 1) throw new UsageError('--to-postgres takes at most one --include (the dump)');
  const done = await restoreToPostgres(repo, snapshot, url, {
    ...(includes[0] ? { path: includes[0] } : {}),
    onStderr: (text) => {
      if (!ctx.out.quiet) process.stderr.write(text);
    },
  });
  ctx.out.data(done);
  ctx.out.line(
    `restored ${done.path} of snapshot ${shortId(done.snapshot)} into database ${done.database} (${formatBytes(done.bytes)})`,
  );
  return 0;
}

import { resolve } from 'node:path';
import { findSnapshot, type RestoreProgress, restore, shortId } from '../../repo/index.ts';
import {
  type Command,
  list,
  openRepository,
  REPO_OPTION_HELP,
  REPO_OPTIONS,
  snapshotFilter,
  str,
  UsageError,
} from '../command.ts';
import { formatBytes, formatDuration, formatRate } from '../output.ts';
import { startProgress } from '../progress.ts';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a snapshot into a folder',
  usage: 'offsite restore SNAPSHOT|latest --target DIR [--include PATH]...',
  details:
    'Files are restored below DIR with their full snapshot path (DIR/home/user/...), with\n' +
    'modes, owners (as root), times, symlinks, hard links, sparse files and xattrs.',
  options: {
    ...REPO_OPTIONS,
    target: { type: 'string', short: 't' },
    include: { type: 'string', short: 'i', multiple: true },
    host: { type: 'string' },
    tag: { type: 'string', multiple: true },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['-t, --target DIR', 'folder to restore into (created if missing)'],
    ['-i, --include PATH', 'restore only this snapshot path and what is below it; repeatable'],
    ['--host NAME', 'with "latest": the latest snapshot of this host'],
    ['--tag TAG', 'with "latest": the latest snapshot with this tag'],
  ],
  async run(ctx) {
    const [ref] = ctx.positionals;
    const target = str(ctx.values, 'target');
    if (!ref || ctx.positionals.length > 1)
      throw new UsageError('give exactly one SNAPSHOT (an id or "latest")');
    if (!target) throw new UsageError('--target DIR is required');
    const repo = await openRepository(ctx);
    const snapshot = await findSnapshot(repo, ref, snapshotFilter(ctx.values));
    const progress: RestoreProgress = { files: 0, dirs: 0, bytes: 0, errors: 0 };
    const total = { totalBytes: snapshot.snapshot.stats.bytesProcessed, totalFiles: undefined };
    const started = Date.now();
    const stop = startProgress(ctx.out.stderrIsTTY && !ctx.out.json && !ctx.out.quiet, () => ({
      ...progress,
      ...total,
    }));
    let result: Awaited<ReturnType<typeof restore>>;
    try {
      result = await restore(repo, snapshot, {
        target: resolve(target),
        include: list(ctx.values, 'include'),
        progress,
      });
    } finally {
      stop();
    }
    const ms = Date.now() - started;
    for (const w of result.warnings) ctx.out.note(`warning: ${w}`);
    for (const e of result.errors) ctx.out.note(`error: ${e.path}: ${e.message}`);
    ctx.out.data({ snapshot: snapshot.id, target: resolve(target), ...result, durationMs: ms });
    ctx.out.line(
      `restored snapshot ${shortId(snapshot.id)}: ${result.files} files, ${result.dirs} folders, ` +
        `${formatBytes(result.bytes)} in ${formatDuration(ms)} (${formatRate(result.bytes, ms)})`,
    );
    if (result.errors.length) {
      ctx.out.line(`${result.errors.length} items could not be restored (listed above)`);
      return 1;
    }
    return 0;
  },
};

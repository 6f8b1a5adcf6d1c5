import { resolve } from 'node:path';
import {
  findSnapshot,
  type Repository,
  type RestoreProgress,
  restore,
  type SnapshotRef,
  shortId,
} from '../../repo/index.ts';
import { OVERWRITE_POLICIES, type OverwritePolicy } from '../../repo/restore/overwrite.ts';
import { parsePointInTime, snapshotAt } from '../../repo/restore/point-in-time.ts';
import {
  type Command,
  type CommandContext,
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
import { restoreIntoPostgres, TO_POSTGRES_HELP } from './restore-postgres.ts';

/** Kept paths printed one by one; --json lists them all. */
const KEPT_SHOWN = 20;

interface Where {
  target: string;
  overwrite: OverwritePolicy;
}

/** --in-place is --target /: every file goes back to its own path. */
function where(ctx: CommandContext): Where {
  const given = str(ctx.values, 'target');
  const inPlace = ctx.values['in-place'] === true;
  if (given && inPlace) throw new UsageError('give --target DIR or --in-place, not both');
  if (!given && !inPlace) throw new UsageError('--target DIR (or --in-place) is required');
  const target = inPlace ? '/' : resolve(given!);
  const overwrite = str(ctx.values, 'overwrite') ?? (target === '/' ? 'never' : 'always');
  if (!OVERWRITE_POLICIES.includes(overwrite as OverwritePolicy)) {
    throw new UsageError(`--overwrite takes ${OVERWRITE_POLICIES.join(', ')} (not "${overwrite}")`);
  }
  return { target, overwrite: overwrite as OverwritePolicy };
}

async function chosenSnapshot(ctx: CommandContext, repo: Repository): Promise<SnapshotRef> {
  const at = str(ctx.values, 'at');
  const [ref] = ctx.positionals;
  if (at !== undefined) {
    if (ref !== undefined && ref !== 'latest') throw new UsageError('give a SNAPSHOT id or --at, not both');
    return snapshotAt(repo, parsePointInTime(at), snapshotFilter(ctx.values));
  }
  return findSnapshot(repo, ref!, snapshotFilter(ctx.values));
}

function report(ctx: CommandContext, kept: string[], overwrite: OverwritePolicy): void {
  for (const path of kept.slice(0, KEPT_SHOWN)) ctx.out.note(`kept (exists): ${path}`);
  if (kept.length > KEPT_SHOWN) ctx.out.note(`... and ${kept.length - KEPT_SHOWN} more (--json lists all)`);
  if (kept.length > 0) {
    ctx.out.line(
      `${kept.length} existing items kept (--overwrite ${overwrite}); --overwrite always replaces them`,
    );
  }
}

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a snapshot into a folder or to where it came from',
  usage:
    'offsite restore SNAPSHOT|latest|--at TIME (--target DIR | --in-place) [--overwrite never|if-newer|always] [--include PATH]...',
  details:
    'Files are restored below DIR with their full snapshot path (DIR/home/user/...), with\n' +
    'modes, owners (as root), times, symlinks, hard links, sparse files and xattrs.\n' +
    '--in-place (the same as --target /) puts every file back where it was.\n' +
    'Where something exists already: never keeps it (and lists it), if-newer replaces it\n' +
    "when the snapshot's version was modified later, always replaces it. A replaced file is\n" +
    'written beside the original and renamed over it when complete, so an interrupted\n' +
    'restore never leaves a half-written original. Folders that exist are merged into.\n' +
    '--at "2026-11-01 14:00" (local time; a date alone means the end of that day) restores\n' +
    'the newest snapshot taken at or before then, with --host/--tag/--path as for latest.\n' +
    "--from-server NAME restores another server of this agent's vault, with its passphrase.",
  options: {
    ...REPO_OPTIONS,
    target: { type: 'string', short: 't' },
    'in-place': { type: 'boolean' },
    overwrite: { type: 'string' },
    include: { type: 'string', short: 'i', multiple: true },
    at: { type: 'string' },
    host: { type: 'string' },
    tag: { type: 'string', multiple: true },
    path: { type: 'string', multiple: true },
    'from-server': { type: 'string' },
    'to-postgres': { type: 'string' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['-t, --target DIR', 'folder to restore into (created if missing)'],
    ['--in-place', 'restore every file to its original path (same as --target /)'],
    ['--overwrite MODE', 'never | if-newer | always (default: never in place, always into a folder)'],
    ['-i, --include PATH', 'restore only this snapshot path and what is below it; repeatable'],
    ['--at TIME', 'the newest snapshot at or before this local time, e.g. "2026-11-01 14:00"'],
    ['--host NAME', 'with "latest" or --at: the latest snapshot of this host'],
    ['--tag TAG', 'with "latest" or --at: the latest snapshot with this tag'],
    ['--path PATH', 'with "latest" or --at: the latest snapshot of exactly these paths; repeatable'],
    ['--from-server NAME', 'restore a recovery point of another server of this vault (its passphrase)'],
    TO_POSTGRES_HELP,
  ],
  async run(ctx) {
    if (ctx.positionals.length > 1 || (!ctx.positionals[0] && ctx.values.at === undefined))
      throw new UsageError('give exactly one SNAPSHOT (an id or "latest"), or --at TIME');
    const toPostgres = str(ctx.values, 'to-postgres');
    if (toPostgres !== undefined) {
      const repo = await openRepository(ctx);
      return restoreIntoPostgres(ctx, repo, await chosenSnapshot(ctx, repo), toPostgres);
    }
    const { target, overwrite } = where(ctx);
    const repo = await openRepository(ctx);
    const snapshot = await chosenSnapshot(ctx, repo);
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
        target,
        include: list(ctx.values, 'include'),
        progress,
        overwrite,
      });
    } finally {
      stop();
    }
    const ms = Date.now() - started;
    for (const w of result.warnings) ctx.out.note(`warning: ${w}`);
    for (const e of result.errors) ctx.out.note(`error: ${e.path}: ${e.message}`);
    report(ctx, result.kept, overwrite);
    ctx.out.data({
      snapshot: snapshot.id,
      time: snapshot.snapshot.time,
      target,
      overwrite,
      ...result,
      durationMs: ms,
    });
    ctx.out.line(
      `restored snapshot ${shortId(snapshot.id)} of ${new Date(snapshot.snapshot.time).toString()}: ` +
        `${result.files} files, ${result.dirs} folders, ` +
        `${formatBytes(result.bytes)} in ${formatDuration(ms)} (${formatRate(result.bytes, ms)})`,
    );
    if (result.errors.length) {
      ctx.out.line(`${result.errors.length} items could not be restored (listed above)`);
      return 1;
    }
    return 0;
  },
};

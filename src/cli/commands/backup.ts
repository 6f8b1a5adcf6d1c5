import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { backupToVault, type CommittedPoint } from '../../agent/index.ts';
import { BadInputError } from '../../errors/index.ts';
import { type ScanTotals, scanTotals } from '../../repo/backup/scan.ts';
import { type BackupProgress, backup, findParent, findSnapshot, shortId } from '../../repo/index.ts';
import {
  type Command,
  list,
  openTarget,
  REPO_OPTION_HELP,
  REPO_OPTIONS,
  str,
  UsageError,
} from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { formatBytes, formatDuration, formatRate } from '../output.ts';
import { startProgress } from '../progress.ts';

async function readExcludeFiles(files: string[]): Promise<string[]> {
  const patterns: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new BadInputError('EXCLUDE_FILE_UNREADABLE', `cannot read the exclude file ${file}`);
    });
    patterns.push(...text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')));
  }
  return patterns;
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : '-';
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'back up files and folders into a new snapshot',
  usage: 'offsite backup [options] PATH...',
  details:
    'Files whose size, mtime, ctime and inode match the previous snapshot of the same host\n' +
    'and paths are not read again. Exit code 3 means the snapshot was saved but some files\n' +
    'could not be read; they are listed.',
  options: {
    ...REPO_OPTIONS,
    exclude: { type: 'string', short: 'e', multiple: true },
    'exclude-file': { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    host: { type: 'string' },
    parent: { type: 'string' },
    force: { type: 'boolean' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['-e, --exclude GLOB', 'skip matching names ("*.tmp") or paths ("/var/cache/**"); repeatable'],
    ['--exclude-file FILE', 'read exclude patterns from FILE, one per line; repeatable'],
    ['--tag TAG', 'tag the snapshot; repeatable'],
    ['--host NAME', "record this host name (default: this machine's)"],
    ['--parent ID', 'compare against this snapshot instead of the latest of the same host and paths'],
    ['--force', 'read every file again, ignoring the parent snapshot'],
  ],
  async run(ctx) {
    if (ctx.positionals.length === 0) throw new UsageError('give at least one PATH to back up');
    // The index is loaded by backup itself, after it has announced its session.
    const { repo, target } = await openTarget(ctx, { index: false });
    const paths = ctx.positionals.map((p) => resolve(p));
    const host = str(ctx.values, 'host') ?? hostname();
    const excludes = [
      ...list(ctx.values, 'exclude'),
      ...(await readExcludeFiles(list(ctx.values, 'exclude-file'))),
    ];
    const parentId = str(ctx.values, 'parent');
    const parent = ctx.values.force
      ? undefined
      : parentId
        ? await findSnapshot(repo, parentId)
        : await findParent(repo, host, [...new Set(paths)]);
    const progress: BackupProgress = { files: 0, dirs: 0, bytes: 0, errors: 0 };
    const showBar = ctx.out.stderrIsTTY && !ctx.out.json && !ctx.out.quiet;
    const totals: ScanTotals = { files: 0, bytes: 0, done: false };
    if (showBar) void scanTotals(paths, excludes, totals);
    const stop = startProgress(showBar, () => ({
      ...progress,
      totalFiles: totals.done ? totals.files : undefined,
      totalBytes: totals.done ? totals.bytes : undefined,
    }));
    const agent = target.kind === 'vault' ? target.agent : undefined;
    const options = { paths, excludes, tags: list(ctx.values, 'tag'), hostname: host, parent, progress };
    let result: Awaited<ReturnType<typeof backup>>;
    let point: CommittedPoint | undefined;
    if (agent) {
      const done = await backupToVault(agent, repo, options, { afterBackup: stop });
      ({ result, point } = done);
      if (done.undelivered)
        ctx.out.note(`note: the job report did not reach the vault (${done.undelivered})`);
    } else {
      try {
        result = await backup(repo, options);
      } finally {
        stop();
      }
    }
    const { stats } = result.snapshot;
    for (const e of result.errors) ctx.out.note(`error: ${e.path}: ${e.message}`);
    ctx.out.data({
      id: result.id,
      parent: parent?.id,
      snapshot: result.snapshot,
      errors: result.errors,
      ...(point ? { point } : {}),
    });
    if (parent) ctx.out.line(`using parent snapshot ${shortId(parent.id)}`);
    ctx.out.line(
      `Files:       ${stats.filesNew} new, ${stats.filesChanged} changed, ${stats.filesUnmodified} unmodified`,
    );
    ctx.out.line(
      `Dirs:        ${stats.dirsNew} new, ${stats.dirsChanged} changed, ${stats.dirsUnmodified} unmodified`,
    );
    ctx.out.line(
      `Processed:   ${formatBytes(stats.bytesProcessed)} (read ${formatBytes(stats.bytesRead)}) in ${formatDuration(stats.durationMs)}, ${formatRate(stats.bytesRead, stats.durationMs)}`,
    );
    ctx.out.line(
      `Added:       ${formatBytes(stats.bytesAddedStored + stats.treeBytesAddedStored)} stored ` +
        `(${formatBytes(stats.bytesAddedRaw)} new data; compression ${ratio(stats.bytesAddedRaw, stats.bytesAddedStored)}, ` +
        `dedup ${ratio(stats.bytesRead, stats.bytesAddedRaw)})`,
    );
    if (result.errors.length)
      ctx.out.line(`Errors:      ${result.errors.length} files or folders could not be read (listed above)`);
    ctx.out.line(`snapshot ${shortId(result.id)} saved`);
    if (point && agent)
      ctx.out.line(`recovery point ${point.id} committed to vault ${agent.info.vault.name}`);
    return result.errors.length ? EXIT.partial : EXIT.ok;
  },
};

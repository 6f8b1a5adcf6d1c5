import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_HOOK_TIMEOUT_MS, withBackupHooks } from '../../agent/hooks.ts';
import { backupToVault, type CommittedPoint } from '../../agent/index.ts';
import { commandSource, parsePostgresUrl, pgDumpSource } from '../../agent/sources/index.ts';
import { BadInputError } from '../../errors/index.ts';
import type { BackupStream } from '../../repo/backup/archiver.ts';
import { type ScanTotals, scanTotals } from '../../repo/backup/scan.ts';
import { streamPath } from '../../repo/backup/stream-source.ts';
import {
  type BackupProgress,
  backup,
  findParent,
  findSnapshot,
  type SnapshotStats,
  shortId,
} from '../../repo/index.ts';
import { parseDuration } from '../../util/index.ts';
import {
  type Command,
  type CommandContext,
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

/** A stream to back up instead of paths: made only when the backup starts (after the pre hook). */
interface StreamPlan {
  name: string;
  open: () => BackupStream & { stop?: () => void };
}

function streamPlan(ctx: CommandContext): StreamPlan | undefined {
  const v = ctx.values;
  const postgres = str(v, 'postgres');
  const kinds = [v.stdin === true, v['stdin-from-command'] === true, postgres !== undefined];
  if (kinds.filter(Boolean).length > 1)
    throw new UsageError('choose one of --stdin, --stdin-from-command and --postgres');
  const given = str(v, 'stdin-name');
  const allowEmpty = v['allow-empty'] === true;
  const onStderr = (text: string) => {
    if (!ctx.out.quiet) process.stderr.write(text);
  };
  if (v.stdin) {
    if (ctx.positionals.length) throw new UsageError('--stdin takes no PATH');
    if (process.stdin.isTTY) throw new UsageError('--stdin reads a pipe, but stdin is a terminal');
    const name = given ?? 'stdin';
    return { name, open: () => ({ name, data: process.stdin, allowEmpty }) };
  }
  if (v['stdin-from-command']) {
    const [command, ...args] = ctx.positionals;
    if (!command) throw new UsageError('--stdin-from-command needs the COMMAND to run after --');
    const name = given ?? 'stdin';
    return { name, open: () => commandSource(command, args, { name, allowEmpty, onStderr }) };
  }
  if (postgres !== undefined) {
    if (ctx.positionals.length) throw new UsageError('--postgres takes no PATH');
    // Parsed now, so a bad URL is refused before the pre hook runs or a passphrase is read.
    const name = given ?? `${parsePostgresUrl(postgres).database}.pgdump`;
    return { name, open: () => pgDumpSource(postgres, { name, onStderr }) };
  }
  if (given) throw new UsageError('--stdin-name goes with --stdin, --stdin-from-command or --postgres');
  return undefined;
}

function printStats(ctx: CommandContext, stats: SnapshotStats): void {
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
}

type BackupRun = Awaited<ReturnType<typeof backupToVault>> | { result: Awaited<ReturnType<typeof backup>> };

function hookOptions(ctx: CommandContext) {
  const timeout = str(ctx.values, 'hook-timeout');
  const timeoutMs = timeout === undefined ? DEFAULT_HOOK_TIMEOUT_MS : parseDuration(timeout);
  if (timeoutMs <= 0) throw new UsageError('--hook-timeout must be more than 0');
  return {
    pre: str(ctx.values, 'pre-hook'),
    post: str(ctx.values, 'post-hook'),
    timeoutMs,
    // Hook output goes to stderr: stdout carries the result (and --json).
    onOutput: (chunk: Buffer) => {
      if (!ctx.out.quiet) process.stderr.write(chunk);
    },
  };
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'back up files and folders (or a stream, or a PostgreSQL database) into a new snapshot',
  usage:
    'offsite backup [options] PATH...\n' +
    '       offsite backup [options] --stdin [--stdin-name NAME] < DATA\n' +
    '       offsite backup [options] --stdin-from-command [--stdin-name NAME] -- COMMAND [ARG...]\n' +
    '       offsite backup [options] --postgres URL [--stdin-name NAME]',
  details:
    'Files whose size, mtime, ctime and inode match the previous snapshot of the same host\n' +
    'and paths are not read again. Exit code 3 means the snapshot was saved but some files\n' +
    'could not be read (they are listed) or the post hook failed.\n\n' +
    'A stream is saved as one file /NAME (chunked and deduplicated like any file); get it\n' +
    'back with `offsite dump SNAPSHOT /NAME` or `offsite restore --include /NAME`. An empty\n' +
    'stream is refused unless --allow-empty. With a shell pipe offsite cannot see whether\n' +
    'the producer failed; --stdin-from-command and --postgres can: when the producer exits\n' +
    'non-zero no snapshot is written. --postgres runs pg_dump --format=custom (one consistent\n' +
    'transaction snapshot); the URL password goes to pg_dump as PGPASSWORD, never on its\n' +
    'command line. Restore it with `offsite restore SNAPSHOT --to-postgres URL`.\n\n' +
    'Hooks run with /bin/sh in a process group of their own. A failing or timed-out pre hook\n' +
    'stops the backup; the post hook always runs (also after a failed pre hook) with\n' +
    'OFFSITE_BACKUP_STATUS=succeeded|failed and OFFSITE_SNAPSHOT_ID or OFFSITE_BACKUP_ERROR.',
  options: {
    ...REPO_OPTIONS,
    exclude: { type: 'string', short: 'e', multiple: true },
    'exclude-file': { type: 'string', multiple: true },
    tag: { type: 'string', multiple: true },
    host: { type: 'string' },
    parent: { type: 'string' },
    force: { type: 'boolean' },
    stdin: { type: 'boolean' },
    'stdin-name': { type: 'string' },
    'stdin-from-command': { type: 'boolean' },
    'allow-empty': { type: 'boolean' },
    postgres: { type: 'string' },
    'pre-hook': { type: 'string' },
    'post-hook': { type: 'string' },
    'hook-timeout': { type: 'string' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['-e, --exclude GLOB', 'skip matching names ("*.tmp") or paths ("/var/cache/**"); repeatable'],
    ['--exclude-file FILE', 'read exclude patterns from FILE, one per line; repeatable'],
    ['--tag TAG', 'tag the snapshot; repeatable'],
    ['--host NAME', "record this host name (default: this machine's)"],
    ['--parent ID', 'compare against this snapshot instead of the latest of the same host and paths'],
    ['--force', 'read every file again, ignoring the parent snapshot'],
    ['--stdin', 'back up what is piped in, as one file'],
    ['--stdin-from-command', 'back up the output of COMMAND (after --); fails if COMMAND does'],
    ['--stdin-name NAME', 'the stream\'s file in the snapshot (default "stdin", for --postgres DB.pgdump)'],
    ['--allow-empty', 'accept an empty stream'],
    ['--postgres URL', 'back up a PostgreSQL database with pg_dump (postgresql://USER:PASS@HOST:PORT/DB)'],
    ['--pre-hook CMD', 'run CMD before the backup; its failure stops the backup'],
    ['--post-hook CMD', 'run CMD after the backup, whatever its outcome'],
    ['--hook-timeout DUR', 'kill a hook running longer than this (default 5m)'],
  ],
  async run(ctx) {
    const plan = streamPlan(ctx);
    if (!plan && ctx.positionals.length === 0) throw new UsageError('give at least one PATH to back up');
    const hooks = hookOptions(ctx);
    // The index is loaded by backup itself, after it has announced its session.
    const { repo, target } = await openTarget(ctx, { index: false });
    const paths = plan ? [] : ctx.positionals.map((p) => resolve(p));
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
        : await findParent(repo, host, plan ? [streamPath(plan.name).path] : [...new Set(paths)]);
    const progress: BackupProgress = { files: 0, dirs: 0, bytes: 0, errors: 0 };
    const showBar = ctx.out.stderrIsTTY && !ctx.out.json && !ctx.out.quiet;
    const totals: ScanTotals = { files: 0, bytes: 0, done: false };
    const agent = target.kind === 'vault' ? target.agent : undefined;
    const options = { paths, excludes, tags: list(ctx.values, 'tag'), hostname: host, parent, progress };
    const runOnce = async (): Promise<BackupRun> => {
      if (showBar && !plan) void scanTotals(paths, excludes, totals);
      const stop = startProgress(showBar, () => ({
        ...progress,
        totalFiles: totals.done ? totals.files : undefined,
        totalBytes: totals.done ? totals.bytes : undefined,
      }));
      const stream = plan?.open();
      const withStream = stream ? { ...options, stream } : options;
      try {
        if (agent) return await backupToVault(agent, repo, withStream, { afterBackup: stop });
        return { result: await backup(repo, withStream) };
      } finally {
        stop();
        stream?.stop?.();
      }
    };
    const outcome = await withBackupHooks(hooks, runOnce, (run) => ({
      OFFSITE_SNAPSHOT_ID: run.result.id,
      OFFSITE_BACKUP_SKIPPED: String(run.result.errors.length),
    }));
    if (outcome.postHookError) ctx.out.note(`error: ${outcome.postHookError.message}`);
    if (!outcome.ok) throw outcome.error;
    const run = outcome.value;
    const point: CommittedPoint | undefined = 'point' in run ? run.point : undefined;
    if ('undelivered' in run && run.undelivered)
      ctx.out.note(`note: the job report did not reach the vault (${run.undelivered})`);
    const { result } = run;
    const { stats } = result.snapshot;
    for (const e of result.errors) ctx.out.note(`error: ${e.path}: ${e.message}`);
    ctx.out.data({
      id: result.id,
      parent: parent?.id,
      snapshot: result.snapshot,
      errors: result.errors,
      ...(point ? { point } : {}),
      ...(outcome.postHookError ? { postHookError: outcome.postHookError.toJSON() } : {}),
    });
    if (parent) ctx.out.line(`using parent snapshot ${shortId(parent.id)}`);
    printStats(ctx, stats);
    if (result.errors.length)
      ctx.out.line(`Errors:      ${result.errors.length} files or folders could not be read (listed above)`);
    ctx.out.line(`snapshot ${shortId(result.id)} saved`);
    if (point && agent)
      ctx.out.line(`recovery point ${point.id} committed to vault ${agent.info.vault.name}`);
    return result.errors.length || outcome.postHookError ? EXIT.partial : EXIT.ok;
  },
};

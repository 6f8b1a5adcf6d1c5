import { spawn } from 'node:child_process';
import { BadInputError, errnoCode, type OffsiteError, TransientError } from '../errors/index.ts';

// Pre- and post-backup hooks: shell commands run around a backup (stop or freeze a
// service, then start or thaw it again), each in a process group of its own so a
// timed-out hook is killed with everything it started. Used by `offsite backup` and the
// daemon alike.
//
// - A pre hook that fails or times out stops the backup: it never runs.
// - The post hook runs whatever happened, also after a failed pre hook (a freeze that
//   half-happened still wants its thaw), with OFFSITE_BACKUP_STATUS=succeeded|failed,
//   and OFFSITE_SNAPSHOT_ID or OFFSITE_BACKUP_ERROR. Its own failure is returned beside
//   the backup's outcome, never in place of it.

export interface BackupHooks {
  pre?: string | undefined;
  post?: string | undefined;
  /** Per hook; past it the hook's process group gets SIGTERM, then SIGKILL. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** The hooks' stdout and stderr as they come (a terminal, a job log). */
  onOutput?: (chunk: Buffer) => void;
}

export type HookedOutcome<T> = ({ ok: true; value: T } | { ok: false; error: unknown }) & {
  postHookError?: OffsiteError;
};

export const DEFAULT_HOOK_TIMEOUT_MS = 5 * 60_000;
/** Between SIGTERM and SIGKILL to a timed-out hook's group. */
const KILL_GRACE_MS = 5000;
/** After a hook exits, how long its output may still drain (a daemon it started may hold the pipe). */
const OUTPUT_GRACE_MS = 500;

const HOOK_NAME = { pre: 'the pre-backup hook', post: 'the post-backup hook' } as const;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

/** Waits for `promise`, but no longer than `ms`. */
async function withinMs(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function lastLine(output: string): string {
  const line = output.trim().split('\n').at(-1)?.trim() ?? '';
  return line ? `: ${line.slice(0, 300)}` : '';
}

interface GroupRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
  timedOut: boolean;
  /** The end of what it printed. */
  tail: string;
}

/** `/bin/sh -c command` as the leader of a new process group, killed whole past the timeout. */
async function runInGroup(
  command: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  onOutput: ((chunk: Buffer) => void) | undefined,
): Promise<GroupRun> {
  const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let tail = '';
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-2048);
    onOutput?.(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<Omit<GroupRun, 'timedOut' | 'tail'>>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, 'SIGTERM');
    // Whatever ignored SIGTERM goes too, once the shell is gone or the grace is over.
    void withinMs(exited, KILL_GRACE_MS).then(() => killGroup(child.pid, 'SIGKILL'));
  }, timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  if (timedOut) killGroup(child.pid, 'SIGKILL');
  await withinMs(closed, OUTPUT_GRACE_MS);
  child.stdout.destroy();
  child.stderr.destroy();
  return { ...exit, timedOut, tail };
}

function hookError(kind: 'pre' | 'post', run: GroupRun, timeoutMs: number): OffsiteError | undefined {
  const name = HOOK_NAME[kind];
  const code = kind === 'pre' ? 'PRE_HOOK' : 'POST_HOOK';
  const then = kind === 'pre' ? 'the backup did not run; ' : '';
  if (run.timedOut) {
    return new TransientError(
      `${code}_TIMEOUT`,
      `${name} did not finish within ${timeoutMs / 1000} s; it was killed with its process group`,
      { hint: `${then}raise --hook-timeout or fix the hook` },
    );
  }
  if (run.error) return new BadInputError(`${code}_FAILED`, `${name} could not start: ${run.error.message}`);
  if (run.code === 0) return undefined;
  const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.code}`;
  return new BadInputError(`${code}_FAILED`, `${name} ${how}${lastLine(run.tail)}`, {
    hint: kind === 'pre' ? `${then}fix the hook or run without it` : 'the backup itself is as reported',
  });
}

/**
 * Runs one hook; resolves when it exits 0, throws otherwise. Errors name the hook, not
 * its command line (which may hold a secret).
 */
export async function runHook(
  kind: 'pre' | 'post',
  command: string,
  hooks: Pick<BackupHooks, 'timeoutMs' | 'env' | 'onOutput'>,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const env = { ...(hooks.env ?? process.env), OFFSITE_HOOK: kind, ...extraEnv };
  const run = await runInGroup(command, env, hooks.timeoutMs, hooks.onOutput);
  const error = hookError(kind, run, hooks.timeoutMs);
  if (error) throw error;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The pre hook, then `body` (the backup), then the post hook with the outcome in its
 * environment. Never throws: the caller decides what a failed backup or hook means.
 */
export async function withBackupHooks<T>(
  hooks: BackupHooks,
  body: () => Promise<T>,
  describe: (value: T) => Record<string, string> = () => ({}),
): Promise<HookedOutcome<T>> {
  let outcome: HookedOutcome<T>;
  try {
    if (hooks.pre) await runHook('pre', hooks.pre, hooks);
    outcome = { ok: true, value: await body() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (!hooks.post) return outcome;
  const env: Record<string, string> = outcome.ok
    ? { OFFSITE_BACKUP_STATUS: 'succeeded', ...describe(outcome.value) }
    : { OFFSITE_BACKUP_STATUS: 'failed', OFFSITE_BACKUP_ERROR: describeError(outcome.error) };
  try {
    await runHook('post', hooks.post, hooks, env);
  } catch (err) {
    outcome.postHookError = err as OffsiteError;
  }
  return outcome;
}

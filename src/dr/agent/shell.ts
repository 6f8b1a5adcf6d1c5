import { spawn } from 'node:child_process';
import { errnoCode } from '../../errors/index.ts';

// A shell command run to its end as the leader of its own process group, the whole group
// killed past its timeout (SIGTERM, then SIGKILL). Used by stop commands and `script`.

export interface ShellRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last 4 KiB it printed (stdout and stderr). */
  tail: string;
  error?: string;
  ms: number;
}

const KILL_GRACE_MS = 3000;
const TAIL_BYTES = 4096;

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

export async function runShell(
  command: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ShellRun> {
  const started = performance.now();
  const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let tail = '';
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>(
    (resolve) => {
      child.once('error', (err) => resolve({ code: null, signal: null, error: err.message }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    },
  );
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) killGroup(child.pid, 'SIGTERM');
    killer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  clearTimeout(killer);
  if (timedOut && child.pid) killGroup(child.pid, 'SIGKILL');
  child.stdout.destroy();
  child.stderr.destroy();
  return { ...exit, timedOut, tail, ms: Math.round(performance.now() - started) };
}

/** "exited 0", "exited 3: <last line>", "timed out after 5 s" … for a step's detail. */
export function describeRun(run: ShellRun, timeoutMs: number): string {
  if (run.error) return `could not start: ${run.error}`;
  if (run.timedOut) return `did not finish within ${timeoutMs} ms; killed with its process group`;
  const line = run.tail.trim().split('\n').at(-1)?.trim().slice(0, 300) ?? '';
  const how = run.signal ? `was killed by ${run.signal}` : `exited ${run.code}`;
  return line ? `${how}: ${line}` : how;
}

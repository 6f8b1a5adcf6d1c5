// Runs the real `offsite` CLI as a child process, as a user would.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return run(process.execPath, [MAIN, ...args], env);
}

/** As another user (the caller must be root), to test what root would not see. */
export function runCliAs(
  user: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return run(
    'setpriv',
    [
      `--reuid=${user}`,
      `--regid=${user === 'nobody' ? 'nogroup' : user}`,
      '--clear-groups',
      process.execPath,
      MAIN,
      ...args,
    ],
    env,
  );
}

export function run(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** The last JSON line a command printed with --json; tests read its fields freely. */
// biome-ignore lint/suspicious/noExplicitAny: parsed output of the command under test
export function lastJson(result: CliResult): any {
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!);
}

export async function tempDir(
  t: { after: (fn: () => Promise<void>) => void },
  label = 'offsite-',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

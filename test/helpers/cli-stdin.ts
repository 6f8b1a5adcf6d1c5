// Runs the real `offsite` CLI with data piped into its stdin (written in pieces of the
// sizes given, as a producer's writes would come) and its stdout kept as bytes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

export interface BinaryCliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

async function feed(stdin: NodeJS.WritableStream, data: Buffer, pieces: readonly number[]): Promise<void> {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const size = pieces.length ? pieces[i % pieces.length]! : data.length;
    if (!stdin.write(data.subarray(offset, offset + size))) await once(stdin, 'drain');
    offset += size;
  }
  stdin.end();
}

export function runCliWithInput(
  args: string[],
  env: Record<string, string | undefined>,
  input?: { data: Buffer; pieces?: readonly number[] },
): Promise<BinaryCliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    if (input && child.stdin) {
      // The CLI may refuse before reading everything; its answer is what counts.
      child.stdin.on('error', () => {});
      void feed(child.stdin, input.data, input.pieces ?? []).catch(() => {});
    }
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
  });
}

import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { BadInputError } from '../../errors/index.ts';
import type { BackupStream } from '../../repo/backup/archiver.ts';

// A command whose standard output is backed up as a stream. Unlike a shell pipe into
// `offsite backup --stdin`, where the producer's exit status never reaches offsite, the
// command's exit is awaited before the snapshot is written: a producer that fails (or is
// killed) midway leaves no snapshot at all.

export interface CommandSourceOptions {
  /** Where the stream is kept in the snapshot. */
  name: string;
  env?: NodeJS.ProcessEnv;
  /** How errors name the producer ("pg_dump"); never its arguments, which may hold secrets. */
  label?: string;
  /** The producer's stderr, as it comes (already passed through `redact`). */
  onStderr?: (text: string) => void;
  /** Removes secrets from the producer's messages before anything sees them. */
  redact?: (text: string) => string;
  /** Makes the error for a failed producer from its exit and its last messages. */
  describeFailure?: (exit: ExitStatus, stderrTail: string) => Error | undefined;
  allowEmpty?: boolean;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not even start (ENOENT: no such program). */
  spawnError?: Error;
}

export interface CommandSource extends BackupStream {
  /** Stops the producer (when the backup fails first); harmless once it has ended. */
  stop(): void;
}

const STDERR_TAIL = 4096;

export function exitText(exit: ExitStatus): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/** The line of a program's messages that says what went wrong (the last error, else the last line). */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.findLast((l) => /\b(error|fatal)\b/i.test(l)) ?? lines.at(-1) ?? '';
  return line.slice(0, 300);
}

export function commandSource(command: string, args: string[], options: CommandSourceOptions): CommandSource {
  const label = options.label ?? command;
  const redact = options.redact ?? ((text: string) => text);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    const clean = redact(text);
    tail = (tail + clean).slice(-STDERR_TAIL);
    options.onStderr?.(clean);
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const failure = async (): Promise<Error | undefined> => {
    const exit = await exited;
    if (exit.spawnError) {
      return new BadInputError('SOURCE_NOT_STARTED', `cannot run ${label}: ${exit.spawnError.message}`, {
        hint: `install ${label} or put it on PATH`,
      });
    }
    if (exit.code === 0) return undefined;
    const custom = options.describeFailure?.(exit, tail);
    if (custom) return custom;
    const why = lastLine(tail);
    return new BadInputError('SOURCE_FAILED', `${label} ${exitText(exit)}${why ? `: ${why}` : ''}`, {
      hint: 'no snapshot was written: the stream it produced is incomplete',
    });
  };
  // Read through a pipe from the start: a child's output nobody listens to yet is
  // discarded by Node when the child exits (so that 'close' can come), which would turn
  // a fast producer's output into an empty stream. The pipe keeps the backpressure.
  const output = child.stdout.pipe(new PassThrough());
  async function* data(): AsyncGenerator<Uint8Array> {
    try {
      for await (const piece of output) yield piece as Buffer;
    } catch (err) {
      // A broken pipe is the producer's failure; say that rather than EPIPE.
      throw (await failure()) ?? err;
    }
  }
  return {
    name: options.name,
    data: data(),
    allowEmpty: options.allowEmpty ?? false,
    async finished() {
      const err = await failure();
      if (err) throw err;
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

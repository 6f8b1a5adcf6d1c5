import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { BadInputError } from '../../errors/index.ts';
import type { Repository, SnapshotRef } from '../../repo/index.ts';
import { type ExitStatus, exitText, lastLine } from './command.ts';
import { findPgTool, parsePostgresUrl, postgresEnv, postgresFailure, redactor } from './postgres.ts';
import { fileContent, findSnapshotFile } from './snapshot-file.ts';

// A dump from a snapshot restored into an existing database with pg_restore, streamed
// straight from the repository. One transaction (--single-transaction): a restore that
// fails (a table already there, a damaged blob, a lost connection) leaves the database
// as it was. Only the database the URL names is touched; nothing is created (no
// --create), so a missing database is an error, not a surprise.

export interface PostgresRestoreOptions {
  /** The dump's path in the snapshot; by default its only file. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  onStderr?: (text: string) => void;
}

export interface PostgresRestoreResult {
  snapshot: string;
  path: string;
  database: string;
  bytes: number;
}

/** Every custom-format archive starts with these bytes. */
const DUMP_MAGIC = Buffer.from('PGDMP');

function waitExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Writes the chunks to the child's stdin with backpressure; stops early if it exits. */
async function feed(child: ChildProcess, chunks: AsyncIterable<Buffer>, exited: Promise<ExitStatus>) {
  const stdin = child.stdin!;
  // pg_restore may exit before reading everything (a refused login): its broken pipe is
  // not the error to report, its exit status is.
  stdin.on('error', () => {});
  let gone = false;
  void exited.then(() => (gone = true));
  let bytes = 0;
  for await (const chunk of chunks) {
    if (gone) break;
    bytes += chunk.length;
    if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), exited]);
  }
  stdin.end();
  return bytes;
}

export async function restoreToPostgres(
  repo: Repository,
  ref: SnapshotRef,
  url: string,
  options: PostgresRestoreOptions = {},
): Promise<PostgresRestoreResult> {
  const target = parsePostgresUrl(url);
  const file = await findSnapshotFile(repo, ref, options.path);
  const chunks = fileContent(repo, file.node);
  const first = await chunks.next();
  if (first.done || !first.value.subarray(0, DUMP_MAGIC.length).equals(DUMP_MAGIC)) {
    throw new BadInputError('NOT_A_POSTGRES_DUMP', `${file.path} is not a pg_dump archive in custom format`, {
      hint: 'restore a snapshot made with `offsite backup --postgres`',
    });
  }
  const env = options.env ?? process.env;
  const args = ['--single-transaction', '--exit-on-error', '--no-password', `--dbname=${target.connection}`];
  const child = spawn(findPgTool('pg_restore', env), args, {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: postgresEnv(target, env),
  });
  const redact = redactor(target);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + redact(text)).slice(-4096);
    options.onStderr?.(redact(text));
  });
  const exited = waitExit(child);
  let bytes = 0;
  try {
    bytes = await feed(child, prepend(first.value, chunks), exited);
  } catch (err) {
    // A blob that fails its check: stop pg_restore so its one transaction rolls back.
    child.kill('SIGTERM');
    await exited;
    throw err;
  }
  const exit = await exited;
  if (exit.code !== 0) throw restoreFailure(target, exit, stderr);
  return { snapshot: ref.id, path: file.path, database: target.database, bytes };
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function restoreFailure(
  target: ReturnType<typeof parsePostgresUrl>,
  exit: ExitStatus,
  stderr: string,
): Error {
  if (exit.spawnError)
    return new BadInputError('SOURCE_NOT_STARTED', `cannot run pg_restore: ${exit.spawnError.message}`);
  const known = postgresFailure('pg_restore', target, stderr);
  if (known) return known;
  const why = lastLine(stderr);
  return new BadInputError(
    'PG_RESTORE_FAILED',
    `pg_restore into ${target.display} ${exitText(exit)}${why ? `: ${why}` : ''}`,
    { hint: 'it ran in one transaction, so the database is unchanged; restore into an empty database' },
  );
}

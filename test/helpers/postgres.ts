// A private PostgreSQL server per test file: initdb in a temp folder owned by the
// `postgres` user (initdb and postgres refuse to run as root), listening on a free port
// of 127.0.0.1 with password (scram-sha-256) authentication, so clients exercise the URL
// password path. Stopped (immediate) and removed after the test.
import { spawn } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface TestPostgres {
  port: number;
  user: string;
  /** Holds characters a URL must percent-encode. */
  password: string;
  binDir: string;
  /** postgresql://user:password@127.0.0.1:port/database */
  url(database: string, password?: string): string;
  /** Runs SQL as the superuser; returns psql's unaligned, tuples-only output. */
  sql(database: string, statement: string): Promise<string>;
  /** Starts a psql running `statement` in the background; resolves with its output at exit. */
  background(database: string, statement: string): Promise<string>;
}

type T = { after: (fn: () => Promise<void>) => void };

const USER = 'offsite_admin';
const PASSWORD = 'p@ss w/rd:%1 secret';

async function binDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`no PostgreSQL in ${root}`);
  return join(root, versions[0], 'bin');
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user on this machine');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function exec(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args[0] ?? ''} exited with ${code}: ${err.trim()}`));
    });
  });
}

/** As the postgres user (the server refuses root). */
function asPostgres(bin: string, tool: string, args: string[], cwd: string): Promise<string> {
  const setpriv = ['--reuid=postgres', '--regid=postgres', '--clear-groups', join(bin, tool), ...args];
  return exec('setpriv', setpriv, { cwd, env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } });
}

export async function startTestPostgres(t: T): Promise<TestPostgres> {
  const bin = await binDir();
  const { uid, gid } = await postgresIds();
  const dir = await mkdtemp(join(tmpdir(), 'offsite-pg-'));
  await chown(dir, uid, gid);
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  await chown(pwfile, uid, gid);
  await asPostgres(
    bin,
    'initdb',
    ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'],
    dir,
  );
  const port = await freePort();
  // fsync off: a test server loses nothing it needs if the machine crashes.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  await asPostgres(
    bin,
    'pg_ctl',
    ['-D', data, '-l', join(dir, 'log'), '-w', '-o', serverOptions, 'start'],
    dir,
  );
  t.after(async () => {
    await asPostgres(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', 'stop'], dir).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  const psqlArgs = (database: string, statement: string) => [
    '-X',
    '-q',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    USER,
    '-d',
    database,
    '-c',
    statement,
  ];
  const env = { PATH: process.env.PATH, PGPASSWORD: PASSWORD };
  const run = (database: string, statement: string) =>
    exec(join(bin, 'psql'), psqlArgs(database, statement), { env }).then((out) => out.trim());
  return {
    port,
    user: USER,
    password: PASSWORD,
    binDir: bin,
    url: (database, password = PASSWORD) =>
      `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    sql: run,
    background: run,
  };
}

// PostgreSQL as a backup source, against a real private server: `offsite backup
// --postgres URL` (pg_dump in custom format) while a writer keeps committing, restored
// with restoreToPostgres (pg_restore) into a new database; the URL password never on a
// command line nor in any message; and every failure (wrong password, missing database,
// pg_dump dying midway, a restore that collides) refused clearly, changing nothing.
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePostgresUrl, restoreToPostgres } from '../src/agent/sources/index.ts';
import { findSnapshot, listSnapshots } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { startTestPostgres, type TestPostgres } from './helpers/postgres.ts';
import { makeRepo, reopen, TEST_PASSPHRASE } from './helpers/repo.ts';

const INITIAL_ORDERS = 100_000;
const env = { OFFSITE_PASSWORD: TEST_PASSPHRASE };

// Every order commits with its two lines in one transaction, by one writer, in seq order.
// So at any instant the committed orders are exactly 1..k, each with both lines: a dump
// read from one consistent snapshot restores as such a prefix (count = max(seq), min 1,
// 2 lines each), and k, "the count at dump time", is then that count. A dump torn across
// moments (tables read at different times) would show orders without lines or the
// reverse; rows committed after the snapshot would not appear at all.
const SCHEMA = `
CREATE TABLE orders (seq bigint PRIMARY KEY, note text NOT NULL);
CREATE TABLE order_lines (seq bigint NOT NULL REFERENCES orders, line int NOT NULL,
  amount bigint NOT NULL, PRIMARY KEY (seq, line));
CREATE TABLE control (stop boolean NOT NULL);
INSERT INTO control VALUES (false);
INSERT INTO orders SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, ${INITIAL_ORDERS}) g;
INSERT INTO order_lines SELECT g, l, g * l FROM generate_series(1, ${INITIAL_ORDERS}) g, generate_series(1, 2) l;
CREATE PROCEDURE writer() LANGUAGE plpgsql AS $$
DECLARE next bigint;
BEGIN
  SELECT max(seq) + 1 INTO next FROM orders;
  LOOP
    INSERT INTO orders VALUES (next, repeat(md5(next::text), 3));
    INSERT INTO order_lines VALUES (next, 1, next), (next, 2, 2 * next);
    COMMIT;
    EXIT WHEN (SELECT stop FROM control);
    next := next + 1;
    PERFORM pg_sleep(0.001);
  END LOOP;
END $$;`;

// One server for the file: started before the first test, stopped after the last.
let pg: TestPostgres;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  pg = await startTestPostgres({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`gave up waiting: ${what}`);
}

async function maxSeq(database: string): Promise<number> {
  return Number(await pg.sql(database, 'SELECT max(seq) FROM orders'));
}

/** A pg_dump first on PATH that records its argv and PGPASSWORD, then runs the real one. */
async function recordingPgDump(
  dir: string,
  after = 'exec',
): Promise<{ path: string; argv: string; pw: string }> {
  const argv = join(dir, 'argv');
  const pw = join(dir, 'pgpassword');
  const real = join(pg.binDir, 'pg_dump');
  const run = after === 'exec' ? `exec ${real} "$@"` : after.replace('REAL', real);
  const script = `#!/bin/sh\nprintf '%s\\n' "$@" > ${argv}\nprintf '%s' "$PGPASSWORD" > ${pw}\n${run}\n`;
  await writeFile(join(dir, 'pg_dump'), script);
  await chmod(join(dir, 'pg_dump'), 0o755);
  return { path: `${dir}:${process.env.PATH}`, argv, pw };
}

test('a database written to during the backup restores exactly as its dump snapshot saw it', async (t) => {
  const dir = await tempDir(t);
  const { path: repoPath } = await makeRepo(dir);
  await pg.sql('postgres', 'CREATE DATABASE shop');
  await pg.sql('shop', SCHEMA);
  const writer = pg.background('shop', 'CALL writer()');
  await waitFor('the writer to commit', async () => (await maxSeq('shop')) >= INITIAL_ORDERS + 100);
  const before = await maxSeq('shop');
  const shim = await recordingPgDump(dir);

  const r = await runCli(['backup', '--repo', repoPath, '--postgres', pg.url('shop'), '--json'], {
    ...env,
    PATH: shim.path,
  });
  assert.equal(r.code, 0, r.stderr);
  const atEnd = await maxSeq('shop');
  const backup = lastJson(r);
  assert.deepEqual(backup.snapshot.paths, ['/shop.pgdump']);
  assert.ok(backup.snapshot.stats.bytesProcessed > 5_000_000, 'the dump holds the rows');

  // The password reached pg_dump only through its environment.
  const argv = await readFile(shim.argv, 'utf8');
  assert.match(argv, /^--format=custom$/m);
  assert.ok(!argv.includes(pg.password) && !argv.includes(encodeURIComponent(pg.password)), argv);
  assert.equal(await readFile(shim.pw, 'utf8'), pg.password);
  assert.ok(!r.stdout.includes(pg.password) && !r.stderr.includes(pg.password));

  await pg.sql('postgres', 'CREATE DATABASE restored');
  const restore = await runCli(
    ['restore', backup.id, '--repo', repoPath, '--to-postgres', pg.url('restored'), '--json'],
    env,
  );
  assert.equal(restore.code, 0, restore.stderr);
  assert.ok(!restore.stdout.includes(pg.password) && !restore.stderr.includes(pg.password));
  const restored = lastJson(restore);
  assert.equal(restored.path, '/shop.pgdump');
  assert.equal(restored.bytes, backup.snapshot.stats.bytesProcessed);

  const [count, min, max] = (await pg.sql('restored', 'SELECT count(*), min(seq), max(seq) FROM orders'))
    .split('|')
    .map(Number) as [number, number, number];
  assert.equal(min, 1);
  assert.equal(count, max, 'the restored orders are 1..k without a gap');
  assert.ok(count >= before && count <= atEnd, `k=${count} lies between ${before} and ${atEnd}`);
  t.diagnostic(`orders: ${before} before the backup, ${count} in the dump, ${atEnd} after it`);
  assert.equal(Number(await pg.sql('restored', 'SELECT count(*) FROM order_lines')), 2 * count);
  const torn =
    'SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM order_lines l WHERE l.seq = o.seq) <> 2';
  assert.equal(await pg.sql('restored', torn), '0');
  const digest = `SELECT md5(string_agg(seq || ':' || note, ',' ORDER BY seq)) FROM orders WHERE seq <= ${count}`;
  assert.equal(await pg.sql('restored', digest), await pg.sql('shop', digest));

  // The writer went on after the dump's snapshot: those rows exist but were not dumped.
  await waitFor('a commit after the dump', async () => (await maxSeq('shop')) > count);
  await pg.sql('shop', 'UPDATE control SET stop = true');
  await writer;
  assert.equal(await pg.sql('restored', `SELECT count(*) FROM orders WHERE seq > ${count}`), '0');
});

test('failures are refused with clear errors, without secrets, and change nothing', async (t) => {
  const dir = await tempDir(t);
  const { path: repoPath } = await makeRepo(dir);
  await pg.sql('postgres', 'CREATE DATABASE small');
  await pg.sql('small', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000)');
  const backup = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['backup', '--repo', repoPath, ...args, '--json'], { ...env, ...extra });

  const wrong = 'wrong-pass-Zq9';
  const refused = await backup(['--postgres', pg.url('small', wrong)]);
  assert.equal(refused.code, 1);
  assert.equal(lastJson(refused).error, 'POSTGRES_AUTH_FAILED');
  assert.ok(!`${refused.stdout}${refused.stderr}`.includes(wrong), 'the password is never printed');

  const missing = await backup(['--postgres', pg.url('nosuchdb')]);
  assert.equal(lastJson(missing).error, 'DATABASE_NOT_FOUND');
  assert.match(lastJson(missing).message, /database "nosuchdb" does not exist/);

  // pg_dump that dies after part of its output: no snapshot may look complete.
  const shim = await recordingPgDump(dir, 'REAL "$@" | head -c 2000; exit 2');
  const cut = await backup(['--postgres', pg.url('small')], { PATH: shim.path });
  assert.equal(cut.code, 1);
  assert.equal(lastJson(cut).error, 'PG_DUMP_FAILED');
  assert.match(lastJson(cut).message, /exited with code 2/);
  assert.deepEqual(await listSnapshots(await reopen(repoPath)), [], 'no snapshot was written');

  const good = await backup(['--postgres', pg.url('small'), '--stdin-name', 'pg/small.dump']);
  assert.equal(good.code, 0, good.stderr);
  const repo = await reopen(repoPath);
  const ref = await findSnapshot(repo, lastJson(good).id);

  await assert.rejects(restoreToPostgres(repo, ref, pg.url('absent')), { code: 'DATABASE_NOT_FOUND' });
  assert.equal(await pg.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'absent'"), '0');

  // Restoring twice into one database collides; the one transaction leaves it as it was.
  await pg.sql('postgres', 'CREATE DATABASE copy');
  await restoreToPostgres(repo, ref, pg.url('copy'), { path: '/pg/small.dump' });
  await pg.sql('copy', 'DELETE FROM t WHERE id > 500');
  await assert.rejects(restoreToPostgres(repo, ref, pg.url('copy')), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'PG_RESTORE_FAILED');
    assert.match(err.message, /already exists/);
    assert.ok(!err.message.includes(pg.password));
    return true;
  });
  assert.equal(await pg.sql('copy', 'SELECT count(*) FROM t'), '500');

  const text = await runCli(
    ['backup', '--repo', repoPath, '--stdin-from-command', '--json', '--', 'echo', 'hi'],
    env,
  );
  const textRef = await findSnapshot(await reopen(repoPath), lastJson(text).id);
  await assert.rejects(restoreToPostgres(await reopen(repoPath), textRef, pg.url('copy')), {
    code: 'NOT_A_POSTGRES_DUMP',
  });
});

test('URLs are parsed without letting the password through', () => {
  const target = parsePostgresUrl('postgresql://me:s%40cret@db.example:5433/app?sslmode=require');
  assert.equal(target.password, 's@cret');
  assert.equal(target.database, 'app');
  assert.ok(!target.connection.includes('cret'));
  assert.match(target.connection, /^postgresql:\/\/me@db\.example:5433\/app\?sslmode=require$/);
  assert.ok(!target.display.includes('cret'));
  const inQuery = parsePostgresUrl('postgres://me@h/app?password=topsecret&application_name=x');
  assert.equal(inQuery.password, 'topsecret');
  assert.ok(!inQuery.connection.includes('topsecret'));
  assert.throws(() => parsePostgresUrl('host=h dbname=app'), { code: 'BAD_POSTGRES_URL' });
  assert.throws(() => parsePostgresUrl('postgresql://me@h/'), { code: 'BAD_POSTGRES_URL' });
  assert.throws(() => parsePostgresUrl('mysql://me@h/app'), { code: 'BAD_POSTGRES_URL' });
});

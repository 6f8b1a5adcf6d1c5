// Streams as backup sources, through the real CLI: a 50 MiB stream piped in round-trips
// byte-exact (restore --include and dump), compressed and with its sizes in the
// statistics; the same stream again adds no data whatever the producer's write sizes;
// an empty stream and a producer that fails midway leave no snapshot; and a stream
// backs up into a vault as a committed recovery point.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { backup, listSnapshots } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { runCliWithInput } from './helpers/cli-stdin.ts';
import { makeRepo, reopen, storedBytes, TEST_PASSPHRASE } from './helpers/repo.ts';
import { startTestVault } from './helpers/vault.ts';

const MiB = 1024 * 1024;
const env = { OFFSITE_PASSWORD: TEST_PASSPHRASE };

/** Deterministic bytes: random blocks alternating with text, so some of it compresses. */
function streamData(bytes: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const data = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
  for (let block = 64 * 1024; block < bytes; block += 128 * 1024) {
    data.fill(`row ${block} of a table dump;\n`, block, Math.min(block + 64 * 1024, bytes));
  }
  return data;
}

function json(result: { stdout: Buffer }) {
  return lastJson({ code: 0, stdout: result.stdout.toString(), stderr: '' });
}

test('a 50 MiB stream round-trips byte-exact, and the same stream again adds nothing', async (t) => {
  const dir = await tempDir(t);
  const { path: repo } = await makeRepo(dir);
  const data = streamData(50 * MiB, 'fifty');
  const args = ['backup', '--repo', repo, '--stdin', '--stdin-name', 'db.dump', '--json'];

  const first = await runCliWithInput(args, env, { data, pieces: [65_536, 131_072, 4096, 1_000_003] });
  assert.equal(first.code, 0, first.stderr);
  const one = json(first);
  assert.deepEqual(one.snapshot.paths, ['/db.dump']);
  const { stats } = one.snapshot;
  assert.equal(stats.bytesProcessed, data.length);
  assert.equal(stats.bytesRead, data.length);
  assert.equal(stats.filesNew, 1);
  assert.equal(stats.bytesAddedRaw, data.length, 'every byte was new');
  assert.ok(stats.bytesAddedStored < stats.bytesAddedRaw * 0.75, 'the text half was compressed');

  const target = join(dir, 'restored');
  const restored = await runCli(
    ['restore', one.id, '--repo', repo, '--target', target, '--include', '/db.dump'],
    env,
  );
  assert.equal(restored.code, 0, restored.stderr);
  assert.ok((await readFile(join(target, 'db.dump'))).equals(data), 'restore gives the same bytes');
  assert.equal((await stat(join(target, 'db.dump'))).mode & 0o777, 0o600, 'a dump stays private');
  const dumped = await runCliWithInput(['dump', one.id, '/db.dump', '--repo', repo], env);
  assert.equal(dumped.code, 0, dumped.stderr);
  assert.ok(dumped.stdout.equals(data), 'dump gives the same bytes');

  const before = await storedBytes(await reopen(repo));
  const second = await runCliWithInput(args, env, { data, pieces: [MiB + 1, 333] });
  assert.equal(second.code, 0, second.stderr);
  const two = json(second);
  assert.equal(two.parent, one.id, 'the earlier stream of that name is the parent');
  assert.equal(two.snapshot.stats.blobsAdded, 0);
  assert.equal(two.snapshot.stats.bytesAddedRaw, 0);
  assert.equal(two.snapshot.stats.filesUnmodified, 1);
  const added = (await storedBytes(await reopen(repo))) - before;
  assert.ok(added < 64 * 1024, `the second stream stored only metadata (${added} bytes)`);
});

test('an empty stream or a failing producer leaves no snapshot', async (t) => {
  const dir = await tempDir(t);
  const { path: repo } = await makeRepo(dir);
  const backupArgs = ['backup', '--repo', repo, '--json'];
  const snapshots = async () => listSnapshots(await reopen(repo));

  const empty = await runCliWithInput([...backupArgs, '--stdin'], env, { data: Buffer.alloc(0) });
  assert.equal(empty.code, 1);
  assert.equal(json(empty).error, 'EMPTY_STREAM');

  const producer = (script: string, name = 'stdin') => [
    ...backupArgs,
    ...['--stdin-name', name, '--stdin-from-command', '--', 'sh', '-c', script],
  ];
  const failed = await runCli(producer('head -c 5000000 /dev/urandom; exit 3'), env);
  assert.equal(failed.code, 1);
  assert.equal(lastJson(failed).error, 'SOURCE_FAILED');
  assert.match(lastJson(failed).message, /exited with code 3/);
  const killed = await runCli(producer('head -c 3000000 /dev/urandom; kill -9 $$'), env);
  assert.equal(killed.code, 1);
  assert.match(lastJson(killed).message, /was killed by SIGKILL/);
  const missing = await runCli([...backupArgs, '--stdin-from-command', '--', 'no-such-producer'], env);
  assert.equal(lastJson(missing).error, 'SOURCE_NOT_STARTED');
  assert.deepEqual(await snapshots(), [], 'nothing that looks like a backup was written');

  const hostile = await runCliWithInput([...backupArgs, '--stdin', '--stdin-name', '../etc/x'], env, {
    data: Buffer.from('x'),
  });
  assert.equal(json(hostile).error, 'BAD_STREAM_NAME');

  const ok = await runCli(producer('printf hello; echo note-from-producer >&2', 'out/hello'), env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /note-from-producer/, "the producer's messages are shown");
  const hello = await runCliWithInput(['dump', 'latest', '/out/hello', '--repo', repo], env);
  assert.equal(hello.stdout.toString(), 'hello');

  const allowed = await runCliWithInput([...backupArgs, '--stdin', '--allow-empty'], env, {
    data: Buffer.alloc(0),
  });
  assert.equal(allowed.code, 0, allowed.stderr);
  const none = await runCliWithInput(['dump', json(allowed).id, '/stdin', '--repo', repo], env);
  assert.equal(none.code, 0);
  assert.equal(none.stdout.length, 0);
  assert.equal((await snapshots()).length, 2);
});

test('a stream that breaks midway or whose producer fails at the end commits nothing', async (t) => {
  const dir = await tempDir(t);
  const { repo } = await makeRepo(dir);
  async function* breaking() {
    yield streamData(3 * MiB, 'part');
    throw new Error('the producer went away');
  }
  await assert.rejects(backup(repo, { paths: [], stream: { name: 'x', data: breaking() } }), /went away/);
  async function* whole() {
    yield streamData(3 * MiB, 'whole');
  }
  const finished = async () => {
    throw new Error('exit code 1');
  };
  await assert.rejects(
    backup(repo, { paths: [], stream: { name: 'x', data: whole(), finished } }),
    /exit code 1/,
  );
  assert.deepEqual(await listSnapshots(repo), []);
  await assert.rejects(backup(repo, { paths: [dir], stream: { name: 'x', data: whole() } }), {
    code: 'STREAM_AND_PATHS',
  });
});

test('a stream backs up into a vault as a committed recovery point', async (t) => {
  const v = await startTestVault(t);
  const admin = async (args: string[]) => {
    const r = await runCli([...args, '--json'], v.env);
    assert.equal(r.code, 0, r.stderr);
  };
  await admin(['vault', 'create', 'prod', '--region', 'local']);
  const credentials = join(v.dir, 'db1.credentials');
  await admin(['vault', 'credentials', 'prod', '--out', credentials]);
  const agent = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_PASSWORD_FILE: join(v.dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'the db1 passphrase, long enough\n', { mode: 0o600 });
  for (const args of [['agent', 'register', '--credentials', credentials, '--name', 'db1'], ['init']]) {
    const r = await runCli(args, agent);
    assert.equal(r.code, 0, r.stderr);
  }
  const data = streamData(8 * MiB, 'vault');
  const sent = await runCliWithInput(['backup', '--stdin', '--stdin-name', 'app.dump', '--json'], agent, {
    data,
  });
  assert.equal(sent.code, 0, sent.stderr);
  const result = json(sent);
  assert.ok(result.point?.id, 'the recovery point was committed');
  const points = (await v.call('/v1/vaults/prod/points')).json().points;
  assert.equal(points.length, 1);
  const back = await runCliWithInput(['dump', 'latest', '/app.dump'], agent);
  assert.equal(back.code, 0, back.stderr);
  assert.ok(back.stdout.equals(data));
});

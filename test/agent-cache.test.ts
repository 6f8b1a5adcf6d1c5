// The agent's local metadata cache: index files, snapshots and trees are fetched from the
// vault once; a damaged entry is noticed and fetched again; a deleted cache is refilled
// without a full backup; the cache keeps to its size.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskCache } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault } from './helpers/vault.ts';

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return { json: lastJson(r), stdout: r.stdout };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

test('metadata is read from the vault once, a damaged entry is read again, a lost cache is refilled', async (t) => {
  const v = await startTestVault(t);
  const file = join(v.dir, 'c.json');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  await ok(['vault', 'credentials', 'prod', '--out', file], v.env);
  const agent = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_PASSWORD_FILE: join(v.dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'cache test passphrase, long enough\n');
  await ok(['agent', 'register', '--credentials', file, '--name', 'web1'], agent);
  await ok(['init'], agent);
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 300, largeFileBytes: 1024 * 1024, seed: 31 });
  await ok(['backup', src], agent);

  const gets = (kind: string) =>
    v.logs.filter((e) => e.method === 'GET' && String(e.path).includes(`/repo/objects/${kind}/`)).length;
  const first = await ok(['ls', 'latest'], agent);
  const before = { index: gets('index'), snapshots: gets('snapshots'), data: gets('data') };
  const second = await ok(['ls', 'latest'], agent);
  assert.equal(second.stdout, first.stdout);
  assert.deepEqual(
    { index: gets('index'), snapshots: gets('snapshots'), data: gets('data') },
    before,
    'the second listing read nothing from the vault but the listings',
  );

  const cacheRoot = join(agent.OFFSITE_AGENT_DIR, 'cache');
  const trees = (await files(cacheRoot)).filter((f) => f.includes('/tree/'));
  assert.ok(trees.length > 3, 'trees are cached');
  const damaged = trees[0]!;
  const bytes = await readFile(damaged);
  bytes[bytes.length >> 1]! ^= 0xff;
  await writeFile(damaged, bytes);
  const third = await ok(['ls', 'latest'], agent);
  assert.equal(third.stdout, first.stdout, 'a damaged entry changes nothing that is shown');
  assert.notDeepEqual(await readFile(damaged), bytes, 'the damaged entry was fetched again');
  assert.equal(gets('data'), before.data + 1, 'exactly the damaged tree was read again');

  await rm(cacheRoot, { recursive: true });
  const again = await ok(['backup', src], agent);
  assert.equal(again.json.snapshot.stats.bytesRead, 0, 'no full backup: nothing was read again');
  assert.ok((await files(cacheRoot)).length > 0, 'the cache was filled again');
});

test('the cache keeps to its size, dropping the least recently used entries', async (t) => {
  const dir = await tempDir(t, 'offsite-cache-');
  const cache = new DiskCache(dir, 10_000);
  const id = (n: number) => n.toString(16).padStart(64, '0');
  for (let n = 0; n < 20; n++) {
    await cache.put('tree', id(n), Buffer.alloc(1000, n));
    await new Promise((r) => setTimeout(r, 5));
  }
  await cache.get('tree', id(0));
  const { bytes, removed } = await cache.trim();
  assert.ok(bytes <= 8000, `${bytes} bytes left`);
  assert.equal(removed, 12);
  assert.ok(await cache.get('tree', id(0)), 'the entry used last is kept');
  assert.equal(await cache.get('tree', id(1)), undefined, 'the oldest unused one is gone');
  assert.equal(await cache.get('tree', '../../etc/passwd'), undefined, 'only hex ids name entries');
});

test('trimming waits an hour between walks, so a command does not scan the cache each start', async (t) => {
  const dir = await tempDir(t, 'offsite-cache-');
  const cache = new DiskCache(dir, 10_000);
  const id = (n: number) => n.toString(16).padStart(64, '0');
  const fill = async (from: number) => {
    for (let n = from; n < from + 20; n++) await cache.put('tree', id(n), Buffer.alloc(1000, n));
  };
  const entries = async () =>
    (await readdir(dir, { recursive: true })).filter((f) => f.startsWith('tree/')).length;
  const now = Date.now();
  await fill(0);
  await cache.trimIfDue(3_600_000, now);
  const afterFirst = await entries();
  await fill(100);
  await cache.trimIfDue(3_600_000, now + 60_000);
  assert.ok((await entries()) > afterFirst + 10, 'no second walk within the hour');
  await cache.trimIfDue(3_600_000, now + 2 * 3_600_000);
  assert.ok((await entries()) <= afterFirst + 2, 'trimmed again once the hour has passed');
});

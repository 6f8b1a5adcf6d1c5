// The agent data API of the vault server end to end, over real HTTPS on loopback with
// real client certificates, files and SQLite: isolation between agents, authentication,
// hash and pack-name checks, create-only uploads, quota, cut-off uploads, ranges, listing
// pages, the delete rule — and a real repository backed up and restored through it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSelfSignedClientCertificate } from '../src/pki/index.ts';
import { backup, checkRepository, fastKdfParams, Repository, restore } from '../src/repo/index.ts';
import { FileStore, HttpBlobStore, RetryStore } from '../src/storage/index.ts';
import { type PackRow, SqliteCatalog } from '../src/vault/catalog/index.ts';
import { repoPrefix, repoStore } from '../src/vault/layout.ts';
import { tempDir } from './helpers/cli.ts';
import { TEST_PASSPHRASE } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { registerTestAgent, startTestVault, type TestAgent, type TestVault } from './helpers/vault.ts';

const OBJECTS = '/v1/agent/repo/objects';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: () => { error?: string; message?: string; hint?: string; [key: string]: unknown };
}

interface RawOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer;
  /** Client certificate; none when undefined. */
  as?: { certPem: string; keyPem: string };
}

/** One request with the path sent exactly as given: no URL parsing, so no normalisation of "..". */
function raw(v: TestVault, path: string, o: RawOptions = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: v.server.port,
      path,
      method: o.method ?? 'GET',
      ca: v.server.caPem,
      cert: o.as?.certPem,
      key: o.as?.keyPem,
      agent: false,
      headers: { ...(o.body ? { 'content-length': o.body.length } : {}), ...o.headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: () => JSON.parse(body.toString()),
        });
      });
    });
    req.end(o.body);
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const packName = (b: Buffer) => `data/${sha256(b).slice(0, 2)}/${sha256(b)}`;

function put(v: TestVault, agent: TestAgent, name: string, body: Buffer, sha = sha256(body)) {
  return raw(v, `${OBJECTS}/${name}`, {
    method: 'PUT',
    as: agent,
    body,
    headers: { 'x-offsite-sha256': sha },
  });
}

function storeOf(v: TestVault, agent: TestAgent): HttpBlobStore {
  return new HttpBlobStore({
    url: v.server.url,
    caPem: v.server.caPem,
    certPem: agent.certPem,
    keyPem: agent.keyPem,
  });
}

async function withCatalog<T>(v: TestVault, fn: (c: SqliteCatalog) => Promise<T>): Promise<T> {
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    return await fn(catalog);
  } finally {
    await catalog.close();
  }
}

const packsOf = (v: TestVault, agent: TestAgent): Promise<PackRow[]> =>
  withCatalog(v, (c) => c.listPacks(agent.server.id));

/** The agent's repository read straight from the region's folder, not through the API. */
function regionRepo(v: TestVault, agent: TestAgent) {
  return repoStore(new FileStore(join(v.dir, 'regions', 'local')), agent.vault.id, agent.server.id);
}

async function names(store: { list: (p: string) => AsyncIterable<{ name: string }> }): Promise<string[]> {
  const all: string[] = [];
  for await (const o of store.list('')) all.push(o.name);
  return all.sort();
}

test('agents cannot see, read, list, overwrite or delete each other’s objects', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const b = await registerTestAgent(v, 'one', 'b');
  const c = await registerTestAgent(v, 'two', 'c');
  const pack = randomBytes(3000);
  const aObjects = { config: Buffer.from('A config'), 'sessions/s1': Buffer.from('A session') };
  for (const [name, body] of Object.entries(aObjects))
    assert.equal((await put(v, a, name, body)).status, 201);
  assert.equal((await put(v, a, packName(pack), pack)).status, 201);
  for (const other of [b, c]) {
    const store = storeOf(v, other);
    assert.deepEqual(await names(store), [], 'sees none of A’s objects');
    for (const name of [...Object.keys(aObjects), packName(pack)]) {
      assert.equal(await store.head(name), null, name);
      await assert.rejects(store.get(name), { code: 'OBJECT_NOT_FOUND' });
      assert.equal(
        (await raw(v, `${OBJECTS}/${name}`, { as: other, headers: { range: 'bytes=0-1' } })).status,
        404,
      );
    }
    // Its own object of the same name, not an overwrite of A's; its delete touches its own.
    await store.put('config', Buffer.from(`config of ${other.server.name}`));
    await store.delete('sessions/s1');
    store.close();
  }
  const mine = storeOf(v, a);
  assert.deepEqual(await names(mine), ['config', packName(pack), 'sessions/s1'].sort());
  assert.equal((await mine.get('config')).toString(), 'A config');
  assert.equal((await mine.get('sessions/s1')).toString(), 'A session');
  mine.close();
  assert.deepEqual(await names(regionRepo(v, b)), ['config']);
  assert.equal((await packsOf(v, b)).length, 0);
});

test('without a registered client certificate every data route is 401', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  await put(v, a, 'config', Buffer.from('x'));
  const stranger = createSelfSignedClientCertificate({ commonName: 'stranger' });
  for (const [as, code] of [
    [undefined, 'CLIENT_CERT_REQUIRED'],
    [stranger, 'AGENT_NOT_REGISTERED'],
  ] as const) {
    for (const [method, path] of [
      ['GET', `${OBJECTS}/config`],
      ['GET', `${OBJECTS}?prefix=`],
      ['PUT', `${OBJECTS}/config`],
      ['DELETE', `${OBJECTS}/sessions/x`],
    ]) {
      const r = await raw(v, path!, { method, as, body: method === 'PUT' ? Buffer.from('y') : undefined });
      assert.equal(r.status, 401, `${method} ${path} ${code}`);
      assert.equal(r.json().error, code);
    }
    assert.equal((await raw(v, `${OBJECTS}/config`, { method: 'HEAD', as })).status, 401);
  }
  assert.equal((await regionRepo(v, a).get('config')).toString(), 'x', 'unchanged');
});

test('uploads are hash-checked, packs are named by their hash, and bad ones store nothing', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const body = randomBytes(5000);
  const other = randomBytes(5000);
  const cases: [string, Buffer, string | undefined, number, string][] = [
    ['index/i1', body, sha256(other), 400, 'SHA256_MISMATCH'],
    ['index/i1', body, 'nothex', 400, 'BAD_SHA256'],
    ['index/i1', body, undefined, 400, 'SHA256_REQUIRED'],
    [packName(other), body, sha256(body), 400, 'BAD_PACK_NAME'], // the name is another hash
    [packName(other), body, sha256(other), 400, 'SHA256_MISMATCH'], // the body is not that pack
    [`data/00/${sha256(body)}`, body, sha256(body), 400, 'BAD_PACK_NAME'], // wrong folder
    [packName(body).toUpperCase().replace('DATA', 'data'), body, sha256(body), 400, 'BAD_PACK_NAME'],
  ];
  for (const [name, bytes, sha, status, code] of cases) {
    const headers: Record<string, string> = sha === undefined ? {} : { 'x-offsite-sha256': sha };
    const r = await raw(v, `${OBJECTS}/${name}`, { method: 'PUT', as: a, body: bytes, headers });
    assert.equal(r.status, status, `${name} ${code}`);
    assert.equal(r.json().error, code, r.json().message);
  }
  const chunked = await new Promise<Raw>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: v.server.port,
      path: `${OBJECTS}/index/i2`,
      method: 'PUT',
      ca: v.server.caPem,
      cert: a.certPem,
      key: a.keyPem,
      agent: false,
      headers: { 'x-offsite-sha256': sha256(body), 'transfer-encoding': 'chunked' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: b,
          json: () => JSON.parse(b.toString()),
        });
      });
    });
    req.end(body);
  });
  assert.equal(chunked.status, 400);
  assert.equal(chunked.json().error, 'LENGTH_REQUIRED');
  assert.deepEqual(await names(regionRepo(v, a)), [], 'nothing stored');
  assert.deepEqual(await packsOf(v, a), [], 'no pack recorded');

  const before = v.clock.now();
  const ok = await put(v, a, packName(body), body);
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.json(), { name: packName(body), size: 5000, created: true });
  const [row] = await packsOf(v, a);
  assert.deepEqual([row?.name, row?.size, row?.seq], [sha256(body), 5000, 0]);
  assert.ok(row!.createdAt >= before && row!.createdAt <= v.clock.now(), 'recorded at the server’s now');
  // Names under data/ that do not look like packs are ordinary objects, not recorded.
  assert.equal((await put(v, a, 'data/ab/notes', Buffer.from('n'))).status, 201);
  assert.equal((await packsOf(v, a)).length, 1);
});

test('create-only: other bytes are 409, the same bytes 200, and a lost recording is caught up', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const first = Buffer.from('first version');
  assert.equal((await put(v, a, 'snapshots/s1', first)).status, 201);
  for (const other of [Buffer.from('other version'), Buffer.from('x')]) {
    const r = await put(v, a, 'snapshots/s1', other);
    assert.equal(r.status, 409);
    assert.equal(r.json().error, 'OBJECT_EXISTS');
  }
  const again = await put(v, a, 'snapshots/s1', first);
  assert.equal(again.status, 200);
  assert.equal(again.json().created, false);
  assert.equal((await regionRepo(v, a).get('snapshots/s1')).toString(), 'first version');

  // A pack stored but never recorded (the catalog failed after the put): the retry records it.
  const pack = randomBytes(2048);
  await regionRepo(v, a).put(packName(pack), pack);
  assert.deepEqual(await packsOf(v, a), []);
  const retry = await put(v, a, packName(pack), pack);
  assert.equal(retry.status, 200);
  const rows = await packsOf(v, a);
  assert.deepEqual(
    rows.map((p) => [p.name, p.size]),
    [[sha256(pack), 2048]],
  );
  assert.equal((await put(v, a, packName(pack), pack)).status, 200);
  assert.equal((await packsOf(v, a)).length, 1, 'recorded once');
});

test('quota: 507 when the vault would exceed it, counting every server’s packs, storing nothing', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'quoted', 'a');
  const b = await registerTestAgent(v, 'quoted', 'b');
  await withCatalog(v, (c) => c.updateVault(a.vault.id, { quotaBytes: 1000 }));
  const p1 = randomBytes(600);
  const p2 = randomBytes(600);
  assert.equal((await put(v, a, packName(p1), p1)).status, 201);
  assert.equal((await put(v, b, 'index/i1', randomBytes(300))).status, 201, '600 + 300 fits');
  for (const [agent, name, body] of [
    [b, packName(p2), p2],
    [a, 'index/i2', randomBytes(401)],
  ] as const) {
    const r = await put(v, agent, name, body);
    assert.equal(r.status, 507, name);
    const e = r.json();
    assert.equal(e.error, 'QUOTA_EXCEEDED');
    assert.match(e.message!, /"quoted"/);
    assert.match(e.message!, /600 B of its 1000 B quota/);
    assert.match(e.hint!, /raise the vault quota|retention/);
    assert.equal(await regionRepo(v, agent).head(name), null, 'nothing stored');
  }
  assert.equal((await packsOf(v, b)).length, 0);
  assert.equal((await put(v, a, packName(p1), p1)).status, 200, 'a retry of stored bytes is not new data');
  const store = storeOf(v, b);
  await assert.rejects(store.put(packName(p2), p2), { name: 'QuotaError', code: 'QUOTA_EXCEEDED' });
  store.close();
});

test('an upload cut off half way leaves no object and no pack row; a whole one then works', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const pack = randomBytes(4 * 1024 * 1024);
  const name = packName(pack);
  await new Promise<void>((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port: v.server.port,
      path: `${OBJECTS}/${name}`,
      method: 'PUT',
      ca: v.server.caPem,
      cert: a.certPem,
      key: a.keyPem,
      agent: false,
      headers: { 'content-length': pack.length, 'x-offsite-sha256': sha256(pack) },
    });
    req.on('error', () => resolve());
    req.write(pack.subarray(0, pack.length / 2), () => req.destroy());
  });
  // The server has finished with the request when it logs it (499: the client went away).
  while (!v.logs.some((e) => e.msg === 'request' && e.method === 'PUT' && e.status === 499)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await regionRepo(v, a).head(name), null);
  assert.deepEqual(await names(regionRepo(v, a)), []);
  assert.deepEqual(await packsOf(v, a), []);
  assert.equal((await put(v, a, name, pack)).status, 201);
  assert.ok((await regionRepo(v, a).get(name)).equals(pack));
});

test('a body over 128 MiB is refused with 413 before it is read', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const answer = await new Promise<Raw>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: v.server.port,
      path: `${OBJECTS}/index/huge`,
      method: 'PUT',
      ca: v.server.caPem,
      cert: a.certPem,
      key: a.keyPem,
      agent: false,
      headers: { 'content-length': 128 * 1024 * 1024 + 1, 'x-offsite-sha256': '0'.repeat(64) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: b,
          json: () => JSON.parse(b.toString()),
        });
        req.destroy();
      });
    });
    req.write(Buffer.alloc(1024)); // only 1 KiB is ever sent: the answer cannot wait for the rest
  });
  assert.equal(answer.status, 413);
  assert.equal(answer.json().error, 'BODY_TOO_LARGE');
  assert.equal(answer.headers.connection, 'close');
  assert.deepEqual(await names(regionRepo(v, a)), []);
});

test('ranged reads return exactly the bytes asked for; bad ranges are refused', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const body = randomBytes(100_000);
  await put(v, a, 'index/big', body);
  const get = (range?: string) =>
    raw(v, `${OBJECTS}/index/big`, { as: a, headers: range === undefined ? {} : { range } });
  const whole = await get();
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(body));
  assert.equal(whole.headers['content-type'], 'application/octet-stream');
  for (const [start, end] of [
    [0, 0],
    [0, 99_999],
    [12_345, 67_890],
    [99_999, 99_999],
  ] as const) {
    const r = await get(`bytes=${start}-${end}`);
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes ${start}-${end}/100000`);
    assert.ok(r.body.equals(body.subarray(start, end + 1)), `${start}-${end}`);
  }
  for (const range of ['bytes=100000-100000', 'bytes=5-100000']) {
    const r = await get(range);
    assert.equal(r.status, 416, range);
    assert.equal(r.json().error, 'RANGE_NOT_SATISFIABLE');
  }
  for (const range of ['bytes=5-', 'bytes=-5', 'bytes=9-3', 'items=0-1', 'bytes=0-1,3-4', 'bytes=x-y']) {
    const r = await get(range);
    assert.equal(r.status, 400, range);
    assert.equal(r.json().error, 'BAD_RANGE');
  }
  const head = await raw(v, `${OBJECTS}/index/big`, { method: 'HEAD', as: a });
  assert.deepEqual([head.status, head.headers['content-length'], head.body.length], [200, '100000', 0]);
  assert.equal((await raw(v, `${OBJECTS}/index/none`, { method: 'HEAD', as: a })).status, 404);
  assert.equal((await raw(v, `${OBJECTS}/index/none`, { as: a })).json().error, 'OBJECT_NOT_FOUND');
});

test('hostile object names are refused with 400 BAD_OBJECT_NAME before any I/O', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const hostile = [
    '..',
    '../../other/repo/config',
    '%2e%2e/%2e%2e/config',
    'a/%2E%2E/b',
    '/etc/passwd',
    '%2Fetc%2Fpasswd',
    'a%00b',
    'a//b',
    'a/',
    '',
    '.',
    'a%20b',
    'x'.repeat(1025),
    'y'.repeat(1024 - repoPrefix(a.vault.id, a.server.id).length + 1),
  ];
  for (const name of hostile) {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const body = method === 'PUT' ? Buffer.from('x') : undefined;
      const headers: Record<string, string> =
        method === 'PUT' ? { 'x-offsite-sha256': sha256(Buffer.from('x')) } : {};
      const r = await raw(v, `${OBJECTS}/${name}`, { method, as: a, body, headers });
      assert.equal(r.status, 400, `${method} ${name.slice(0, 40)}`);
      if (method !== 'HEAD')
        assert.equal(r.json().error, 'BAD_OBJECT_NAME', `${method} ${name.slice(0, 40)}`);
    }
  }
  for (const prefix of ['..', '%2e%2e/', '/etc', 'a%00', 'a//']) {
    const r = await raw(v, `${OBJECTS}?prefix=${prefix}`, { as: a });
    assert.equal(r.status, 400, prefix);
    assert.equal(r.json().error, 'BAD_OBJECT_NAME');
  }
  assert.deepEqual(
    await readdir(join(v.dir, 'regions', 'local')).catch(() => []),
    [],
    'nothing written anywhere',
  );
});

test('agents delete only their sessions/ objects; backup data is refused with 403', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  const pack = randomBytes(100);
  const kept = [packName(pack), 'index/i1', 'snapshots/s1', 'keys/k1', 'config', 'sessionsx', 'gc/m1'];
  for (const name of kept) await put(v, a, name, name.startsWith('data/') ? pack : Buffer.from(name));
  await put(v, a, 'sessions/s1', Buffer.from('session'));
  for (const name of kept) {
    const r = await raw(v, `${OBJECTS}/${name}`, { method: 'DELETE', as: a });
    assert.equal(r.status, 403, name);
    assert.equal(r.json().error, 'FORBIDDEN');
    assert.match(r.json().message!, /^agents cannot delete backup data; the vault deletes it by retention/);
  }
  const deleted = await raw(v, `${OBJECTS}/sessions/s1`, { method: 'DELETE', as: a });
  assert.equal(deleted.status, 200);
  assert.equal(
    (await raw(v, `${OBJECTS}/sessions/s1`, { method: 'DELETE', as: a })).status,
    200,
    'idempotent',
  );
  assert.deepEqual(await names(regionRepo(v, a)), [...kept].sort());
  assert.equal((await packsOf(v, a))[0]?.deletedAt, null);
});

test('listing comes in pages with a cursor, each object once', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'a');
  // Written straight into the region's folder: 10 001 uploads would only slow the test.
  const dir = join(v.dir, 'regions', 'local', repoPrefix(a.vault.id, a.server.id), 'many');
  await mkdir(dir, { recursive: true });
  const count = 10_001;
  for (let i = 0; i < count; i++) await writeFile(join(dir, `o${String(i).padStart(5, '0')}`), 'x');
  await put(v, a, 'other', Buffer.from('yy'));
  const first = await raw(v, `${OBJECTS}?prefix=many/`, { as: a });
  assert.equal(first.status, 200);
  const page = first.json() as { objects: { name: string; size: number }[]; next: string | null };
  assert.equal(page.objects.length, 10_000);
  assert.deepEqual(page.objects[0], { name: 'many/o00000', size: 1 });
  assert.equal(page.next, 'many/o09999');
  const second = (await raw(v, `${OBJECTS}?prefix=many/&after=${page.next}`, { as: a })).json();
  assert.deepEqual(second, { objects: [{ name: 'many/o10000', size: 1 }], next: null });
  const store = storeOf(v, a);
  const listed = await names(store);
  assert.equal(listed.length, count + 1);
  assert.equal(new Set(listed).size, count + 1);
  store.close();
});

test('a real repository backs up and restores through the vault, sessions and all', async (t) => {
  const v = await startTestVault(t);
  const a = await registerTestAgent(v, 'one', 'web-1');
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await makeTree(src, { smallFiles: 60, largeFileBytes: 3 * 1024 * 1024, seed: 3 });
  const stores: HttpBlobStore[] = [];
  t.after(() => {
    for (const s of stores) s.close();
  });
  const http = () => {
    const s = storeOf(v, a);
    stores.push(s);
    return new RetryStore(s, { sleep: async () => {} });
  };
  await Repository.init(http(), TEST_PASSPHRASE, {
    kdf: fastKdfParams(),
    config: { packSize: 512 * 1024 },
  });
  const repo = await Repository.open(http(), TEST_PASSPHRASE);
  await repo.loadIndex();
  const done = await backup(repo, { paths: [src] });
  assert.deepEqual(done.errors, []);

  const stored = await names(regionRepo(v, a));
  assert.deepEqual(
    stored.filter((n) => n.startsWith('sessions/')),
    [],
    'the backup deleted its session when it ended',
  );
  const sessionDeletes = v.logs.filter(
    (e) => e.method === 'DELETE' && String(e.path).startsWith(`${OBJECTS}/sessions/`) && e.status === 200,
  );
  assert.equal(sessionDeletes.length, 1, 'the session was deleted through the API');
  const packs = stored.filter((n) => n.startsWith('data/'));
  assert.ok(packs.length >= 4, `${packs.length} packs`);
  const rows = await packsOf(v, a);
  assert.deepEqual(
    rows.map((r) => `data/${r.name.slice(0, 2)}/${r.name}`).sort(),
    packs,
    'every pack recorded',
  );

  const again = await Repository.open(http(), TEST_PASSPHRASE);
  await again.loadIndex();
  const checked = await checkRepository(again, { readData: true });
  assert.deepEqual(checked.problems, []);
  const target = join(dir, 'restored');
  const restored = await restore(again, { id: done.id, snapshot: done.snapshot }, { target });
  assert.deepEqual(restored.errors, []);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
});

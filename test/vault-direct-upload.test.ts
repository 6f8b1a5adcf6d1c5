// Direct upload: in an object-storage region (Azurite, s3rver) the agent sends pack bytes
// straight to storage on URLs the vault signs, and the vault checks each pack at
// complete; in a file region it falls back to the ordinary PUT through the vault.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startServer } from '../src/server/index.ts';
import { type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { openStore } from '../src/storage/index.ts';
import { type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

let azurite: Azurite;
let s3: S3rver;

before(async () => {
  [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
  Object.assign(process.env, azurite.env, s3.env);
});
after(async () => {
  await Promise.all([azurite?.stop(), s3?.stop()]);
});

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

interface Setup {
  dir: string;
  regionUrl: string;
  logs: Record<string, unknown>[];
  agentEnv: Record<string, string>;
  vaultId: string;
  /** A JSON POST to the vault as the registered agent. */
  post(path: string, json: unknown): ReturnType<typeof https>;
  clockOffset: { ms: number };
}

async function setUp(t: TestContext, regionUrl: string, startOffsetMs = 0): Promise<Setup> {
  const dir = await tempDir(t, 'offsite-direct-');
  const logs: Record<string, unknown>[] = [];
  const clockOffset = { ms: startOffsetMs };
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [{ name: 'r1', url: regionUrl }],
    log: (e) => logs.push(e),
    now: () => Date.now() + clockOffset.ms,
    background: false,
  });
  t.after(() => server.close());
  const admin = {
    OFFSITE_SERVER: server.url,
    OFFSITE_CA_CERT: server.files.caCert,
    OFFSITE_TOKEN: (await readFile(server.files.adminToken, 'utf8')).trim(),
  };
  const vault = await ok(['vault', 'create', 'prod', '--region', 'r1'], admin);
  await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
  const agentDir = join(dir, 'agent');
  const agentEnv = { OFFSITE_AGENT_DIR: agentDir, OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
  await writeFile(agentEnv.OFFSITE_PASSWORD_FILE, 'a passphrase for direct uploads\n');
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agentEnv);
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'client.pem', 'client-key.pem'].map((f) => readFile(join(agentDir, f), 'utf8')),
  );
  const post = (path: string, json: unknown) =>
    https(ca!, `${server.url}${path}`, { method: 'POST', cert, key, body: JSON.stringify(json) });
  clockOffset.ms = 0;
  return { dir, regionUrl, logs, agentEnv, vaultId: vault.id, post, clockOffset };
}

async function backupAndRestore(s: Setup): Promise<void> {
  await ok(['init'], s.agentEnv);
  const src = join(s.dir, 'src');
  await makeTree(src, { smallFiles: 40, largeFileBytes: 2 * 1024 * 1024, seed: 7 });
  await ok(['backup', src], s.agentEnv);
  const target = join(s.dir, 'restored');
  await ok(['restore', 'latest', '--target', target], s.agentEnv);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
}

function requests(s: Setup, method: string, pathPart: string) {
  return s.logs.filter(
    (e) => e.msg === 'request' && e.method === method && String(e.path).includes(pathPart),
  );
}

/** PUTs bytes to a signed URL with its headers; the status. */
function putTo(url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'PUT',
      headers: { ...headers, 'content-length': String(body.length) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.end(body);
  });
}

function pack(): { bytes: Buffer; sha256: string; name: string } {
  const bytes = randomBytes(64 * 1024);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, sha256, name: `data/${sha256.slice(0, 2)}/${sha256}` };
}

async function regionHas(s: Setup, name: string): Promise<boolean> {
  const store = openStore(s.regionUrl);
  for await (const o of store.list(`${s.vaultId}/`)) if (o.name.endsWith(`/repo/${name}`)) return true;
  return false;
}

const backends = [
  { name: 'Azure Blob (Azurite)', region: async () => azurite.url(await azurite.newContainer()) },
  // s3rver-main.ts checks SigV4 signatures (s3rver itself checks only key ids), so both
  // backends refuse a URL used for another name or after it expires.
  { name: 'S3 (s3rver)', region: async () => s3.url(await s3.newBucket()) },
];

describe('direct upload to object storage', () => {
  for (const backend of backends) {
    it(`${backend.name}: packs go straight to storage, and the vault never sees their bytes`, async (t) => {
      const s = await setUp(t, await backend.region());
      await backupAndRestore(s);
      assert.deepEqual(
        requests(s, 'PUT', '/v1/agent/repo/objects/data/'),
        [],
        'no pack PUT through the vault',
      );
      const completes = requests(s, 'POST', '/v1/agent/repo/uploads/complete');
      assert.ok(completes.length > 0, 'packs were completed');
      assert.ok(completes.every((e) => e.status === 201));
    });

    it(`${backend.name}: a tampered upload is refused at complete and removed`, async (t) => {
      const s = await setUp(t, await backend.region());
      const p = pack();
      const asked = await s.post('/v1/agent/repo/uploads', {
        name: p.name,
        size: p.bytes.length,
        sha256: p.sha256,
      });
      assert.equal(asked.status, 200, asked.text);
      const ticket = asked.json();
      const other = randomBytes(p.bytes.length);
      // S3 itself would refuse bytes that do not match the signed checksum; s3rver stores
      // them (it checks the signature, not the checksum), so the vault's check is shown.
      const stored = await putTo(ticket.url, ticket.headers, other);
      assert.ok(stored >= 200 && stored < 300, `storage answered ${stored}`);
      assert.ok(await regionHas(s, p.name));
      const done = await s.post('/v1/agent/repo/uploads/complete', { name: p.name });
      assert.equal(done.status, 400);
      assert.equal(done.json().error, 'UPLOAD_MISMATCH');
      assert.equal(await regionHas(s, p.name), false, 'the tampered object was deleted');
      const commit = await s.post('/v1/agent/repo/uploads/complete', { name: p.name });
      assert.equal(commit.json().error, 'NOT_UPLOADED');
    });

    it(`${backend.name}: a URL works for its own name only, and not after it expires`, async (t) => {
      // Registered 20 minutes back, so the agent's certificate is valid when the clock is.
      const s = await setUp(t, await backend.region(), -20 * 60_000);
      const [p, q] = [pack(), pack()];
      const ask = (x: typeof p) =>
        s.post('/v1/agent/repo/uploads', { name: x.name, size: x.bytes.length, sha256: x.sha256 });
      const ticket = (await ask(p)).json();
      const elsewhere = ticket.url
        .replace(p.sha256, q.sha256)
        .replace(`/${p.sha256.slice(0, 2)}/`, `/${q.sha256.slice(0, 2)}/`);
      assert.equal(await putTo(elsewhere, ticket.headers, q.bytes), 403);
      assert.equal(await regionHas(s, q.name), false);
      // Signed by a vault whose clock is 10 minutes behind: expired on arrival.
      s.clockOffset.ms = -10 * 60_000;
      const staleAnswer = await ask(q);
      assert.equal(staleAnswer.status, 200, staleAnswer.text);
      const stale = staleAnswer.json();
      assert.equal(await putTo(stale.url, stale.headers, q.bytes), 403);
      assert.equal(await regionHas(s, q.name), false);
      s.clockOffset.ms = 0;
      const first = await putTo(ticket.url, ticket.headers, p.bytes);
      assert.ok(first === 200 || first === 201, `storage answered ${first}`);
      // Write-once: the same URL cannot replace it.
      assert.notEqual(await putTo(ticket.url, ticket.headers, randomBytes(10)), 201);
      const done = await s.post('/v1/agent/repo/uploads/complete', { name: p.name });
      assert.equal(done.status, 201, done.text);
    });
  }

  it('a file region answers DIRECT_UPLOAD_NOT_OFFERED and the agent uses the ordinary PUT, asking once', async (t) => {
    const dir = await tempDir(t, 'offsite-direct-file-');
    const s = await setUp(t, `file://${join(dir, 'region')}`);
    const p = pack();
    const refused = await s.post('/v1/agent/repo/uploads', {
      name: p.name,
      size: p.bytes.length,
      sha256: p.sha256,
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.json().error, 'DIRECT_UPLOAD_NOT_OFFERED');
    const before = requests(s, 'POST', '/v1/agent/repo/uploads').length;
    await backupAndRestore(s);
    const packs = requests(s, 'PUT', '/v1/agent/repo/objects/data/').length;
    const asked = requests(s, 'POST', '/v1/agent/repo/uploads').length - before;
    // Once told, the agent stops asking; only uploads already under way had asked.
    assert.ok(packs >= 4 && asked <= 2, `${asked} asks for ${packs} packs`);
    assert.deepEqual(requests(s, 'POST', '/v1/agent/repo/uploads/complete'), []);
  });
});

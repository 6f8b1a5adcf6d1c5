// Requests to object storage are really authenticated: a wrong secret is refused by the
// service (s3rver with SigV4 checked by s3rver-main.ts, Azurite with its shared key
// check), the error names the bucket or container and never the secret, and nothing is
// written. Direct-upload URLs (S3 presigned, Azure SAS) signed by the vault stop working
// when expired or altered: storage refuses them and nothing is written.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isOffsiteError } from '../src/errors/index.ts';
import { startServer } from '../src/server/index.ts';
import { AZURITE_KEY, type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { type BlobStore, openStore } from '../src/storage/index.ts';
import { S3RVER_KEY_ID, S3RVER_SECRET, type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { TEST_PASSPHRASE } from './helpers/repo.ts';

let azurite: Azurite;
let s3: S3rver;
before(async () => {
  [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
  Object.assign(process.env, azurite.env, s3.env);
});
after(() => Promise.all([azurite?.stop(), s3?.stop()]));

// A wrong secret that is well-formed (Azure keys are base64).
const WRONG_S3_SECRET = 'wR0ngSeCrEtKeYoFtHiSaCcOuNt/0123456789ab';
const WRONG_AZURE_KEY = randomBytes(64).toString('base64');

interface Backend {
  label: string;
  newUrl(): Promise<string>;
  rightEnv(): Record<string, string>;
  /** The right account or key id with the wrong secret. */
  wrongEnv: Record<string, string>;
  wrongSecret: string;
  location: RegExp;
  refusal: RegExp;
}

const BACKENDS: Backend[] = [
  {
    label: 'S3 (s3rver, SigV4 checked)',
    newUrl: async () => s3.url(await s3.newBucket(), 'repo'),
    rightEnv: () => s3.env,
    wrongEnv: { AWS_ACCESS_KEY_ID: S3RVER_KEY_ID, AWS_SECRET_ACCESS_KEY: WRONG_S3_SECRET },
    wrongSecret: WRONG_S3_SECRET,
    location: /s3:\/\/t-[0-9a-f]{16}\/repo/,
    // The store checks with HEAD before its put (s3rver ignores If-None-Match), and a HEAD
    // answer has no body to carry the code.
    refusal: /HTTP 403/,
  },
  {
    label: 'Azure Blob (Azurite)',
    newUrl: async () => azurite.url(await azurite.newContainer(), 'repo'),
    rightEnv: () => azurite.env,
    wrongEnv: { AZURE_STORAGE_KEY: WRONG_AZURE_KEY },
    wrongSecret: WRONG_AZURE_KEY,
    location: /azure:\/\/devstoreaccount1\/t-[0-9a-f]{16}\/repo/,
    refusal: /HTTP 403 AuthorizationFailure/,
  },
];

async function names(store: BlobStore): Promise<string[]> {
  const found: string[] = [];
  for await (const o of store.list('')) found.push(o.name);
  return found;
}

/** Everything an error shows: message, hint, code and its JSON form. */
function shown(err: unknown): string {
  if (!isOffsiteError(err)) return String(err);
  return `${err.message}\n${err.hint ?? ''}\n${JSON.stringify(err)}`;
}

describe('a wrong secret is refused by storage', () => {
  for (const b of BACKENDS) {
    it(`${b.label}: AUTH error naming the location, never the secret, and nothing written`, async () => {
      const url = await b.newUrl();
      const wrong = openStore(url, b.wrongEnv);
      let refused: unknown;
      await wrong.put('config', Buffer.from('x')).catch((err) => {
        refused = err;
      });
      assert.ok(isOffsiteError(refused), `refused with ${String(refused)}`);
      assert.equal(refused.kind, 'auth');
      assert.equal(refused.code, 'STORAGE_ACCESS_DENIED');
      assert.match(refused.message, b.location);
      assert.match(refused.message, /refused writing config/);
      assert.match(refused.message, b.refusal);
      assert.ok(!shown(refused).includes(b.wrongSecret), shown(refused));
      for (const read of [() => wrong.get('config'), () => wrong.head('config'), () => names(wrong)]) {
        await assert.rejects(read(), { code: 'STORAGE_ACCESS_DENIED' });
      }
      const right = openStore(url, b.rightEnv());
      assert.deepEqual(await names(right), [], 'nothing was written');
      // The same request with the right secret goes through: the refusal was the secret's.
      await right.put('config', Buffer.from('x'));
      assert.deepEqual(await names(right), ['config']);
    });

    it(`${b.label}: offsite init --repo with the wrong secret fails clearly and writes nothing`, async () => {
      const url = await b.newUrl();
      const result = await runCli(['init', '--repo', url], {
        ...b.wrongEnv,
        OFFSITE_PASSWORD: TEST_PASSPHRASE,
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, b.location);
      assert.match(result.stderr, b.refusal);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(b.wrongSecret), result.stderr);
      assert.deepEqual(await names(openStore(url, b.rightEnv())), []);
    });
  }
});

interface Vault {
  regionUrl: string;
  vaultId: string;
  clockOffset: { ms: number };
  post(path: string, json: unknown): ReturnType<typeof https>;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

/** A vault over regionUrl with one registered agent, registered 20 minutes back. */
async function vaultOver(t: TestContext, regionUrl: string): Promise<Vault> {
  const dir = await tempDir(t, 'offsite-cloud-auth-');
  const clockOffset = { ms: -20 * 60_000 };
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [{ name: 'r1', url: regionUrl }],
    log: () => {},
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
  await writeFile(agentEnv.OFFSITE_PASSWORD_FILE, 'a passphrase for signed uploads\n');
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agentEnv);
  const [ca, cert, key] = await Promise.all(
    ['ca.pem', 'client.pem', 'client-key.pem'].map((f) => readFile(join(agentDir, f), 'utf8')),
  );
  clockOffset.ms = 0;
  const post = (path: string, json: unknown) =>
    https(ca!, `${server.url}${path}`, { method: 'POST', cert, key, body: JSON.stringify(json) });
  return { regionUrl, vaultId: vault.id, clockOffset, post };
}

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

function pack() {
  const bytes = randomBytes(32 * 1024);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, sha256, name: `data/${sha256.slice(0, 2)}/${sha256}` };
}

async function stored(v: Vault): Promise<string[]> {
  return (await names(openStore(v.regionUrl))).filter((n) => n.includes('/repo/data/'));
}

/** Replaces the last character of a query parameter's value (a signature stays well-formed). */
function alterParam(url: string, param: string): string {
  const u = new URL(url);
  const value = u.searchParams.get(param);
  assert.ok(value, `${param} in ${u.pathname}`);
  const last = value.at(-1) === 'A' ? 'B' : 'A';
  u.searchParams.set(param, `${value.slice(0, -1)}${last}`);
  return u.toString();
}

const UPLOADS = [
  {
    label: 'S3 presigned URL (s3rver)',
    region: async () => s3.url(await s3.newBucket()),
    sig: 'X-Amz-Signature',
  },
  { label: 'Azure SAS (Azurite)', region: async () => azurite.url(await azurite.newContainer()), sig: 'sig' },
];

describe('signed direct-upload URLs', () => {
  for (const u of UPLOADS) {
    it(`${u.label}: an expired or altered URL is refused and nothing is written`, async (t) => {
      const v = await vaultOver(t, await u.region());
      const p = pack();
      const ask = () =>
        v.post('/v1/agent/repo/uploads', { name: p.name, size: p.bytes.length, sha256: p.sha256 });
      // Signed by a vault whose clock is 10 minutes behind: expired on arrival (5-minute URLs).
      v.clockOffset.ms = -10 * 60_000;
      const staleAnswer = await ask();
      assert.equal(staleAnswer.status, 200, staleAnswer.text);
      const stale = staleAnswer.json();
      assert.ok(Date.parse(stale.expiresAt) < Date.now());
      assert.equal(await putTo(stale.url, stale.headers, p.bytes), 403);
      v.clockOffset.ms = 0;
      const answer = await ask();
      assert.equal(answer.status, 200, answer.text);
      const ticket = answer.json();
      assert.equal(
        await putTo(alterParam(ticket.url, u.sig), ticket.headers, p.bytes),
        403,
        'tampered signature',
      );
      // A later expiry than the one signed.
      const later = new URL(ticket.url);
      if (later.searchParams.has('X-Amz-Expires')) later.searchParams.set('X-Amz-Expires', '604800');
      else
        later.searchParams.set('se', new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'));
      assert.equal(await putTo(later.toString(), ticket.headers, p.bytes), 403, 'extended expiry');
      assert.deepEqual(await stored(v), [], 'nothing was written');
      // The untouched URL works: the refusals were the alterations'.
      const status = await putTo(ticket.url, ticket.headers, p.bytes);
      assert.ok(status === 200 || status === 201, `storage answered ${status}`);
      const done = await v.post('/v1/agent/repo/uploads/complete', { name: p.name });
      assert.equal(done.status, 201, done.text);
      assert.equal((await stored(v)).length, 1);
    });
  }

  it('S3: a presigned URL binds its size: another Content-Length is refused', async (t) => {
    const v = await vaultOver(t, s3.url(await s3.newBucket()));
    const p = pack();
    const ticket = (
      await v.post('/v1/agent/repo/uploads', { name: p.name, size: p.bytes.length, sha256: p.sha256 })
    ).json();
    assert.equal(await putTo(ticket.url, ticket.headers, Buffer.concat([p.bytes, Buffer.from('more')])), 403);
    assert.deepEqual(await stored(v), []);
  });
});

// Both secrets are public development credentials; these guard against a test that
// silently ran with them in place of the wrong ones.
assert.notEqual(WRONG_S3_SECRET, S3RVER_SECRET);
assert.notEqual(WRONG_AZURE_KEY, AZURITE_KEY);

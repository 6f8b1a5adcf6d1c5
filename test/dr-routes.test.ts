// The DR routes' boundaries through the real server: a token scoped to one vault sees and
// touches only that vault's sites and workloads, and site credentials files are single
// use, only the newest valid, and not spent by a refused registration.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { hashToken, newToken } from '../src/server/index.ts';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { https } from './helpers/https.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

async function scopedToken(v: TestVault, vaultName: string): Promise<string> {
  const token = newToken();
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    const vault = await catalog.getVaultByName(vaultName);
    await catalog.createToken({
      tokenHash: hashToken(token),
      name: `owner of ${vaultName}`,
      role: 'owner',
      vaultId: vault.id,
      createdAt: v.clock.now(),
      expiresAt: null,
    });
  } finally {
    await catalog.close();
  }
  return token;
}

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });

const WORKLOADS = (primary: string, replica: string) => ({
  workloads: [
    {
      name: `app-${primary}`,
      dataPaths: ['/srv/app'],
      start: 'start',
      stop: 'stop',
      health: { type: 'command', command: 'true' },
      primarySite: primary,
      replicaSite: replica,
      replication: { frequency: '15m' },
    },
  ],
});

test('a token scoped to one vault sees and uses only its sites and workloads', async (t) => {
  const v = await startTestVault(t);
  for (const [vault, sites] of [
    ['va', ['a1', 'a2']],
    ['vb', ['b1', 'b2']],
  ] as const) {
    assert.equal((await v.call('/v1/vaults', post({ name: vault, region: 'local' }))).status, 201);
    for (const name of sites) assert.equal((await v.call('/v1/sites', post({ name, vault }))).status, 201);
  }
  const tokenB = await scopedToken(v, 'vb');
  const asB = (path: string, options = {}) => v.call(path, { token: tokenB, ...options });

  assert.deepEqual(
    (await asB('/v1/sites')).json().sites.map((s: { name: string }) => s.name),
    ['b1', 'b2'],
  );
  for (const [path, options] of [
    ['/v1/sites/a1', {}],
    ['/v1/sites/a1/credentials', { method: 'POST' }],
    ['/v1/sites/a1/commands', post({ kind: 'noop' })],
    ['/v1/sites/a1', { method: 'DELETE' }],
  ] as const) {
    const r = await asB(path, options);
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.equal(r.json().error, 'SITE_NOT_FOUND');
  }
  const elsewhere = await asB('/v1/sites', post({ name: 'b3', vault: 'va' }));
  assert.equal(elsewhere.status, 404, elsewhere.text);
  const foreign = await asB('/v1/dr/workloads', {
    method: 'PUT',
    body: JSON.stringify(WORKLOADS('a1', 'a2')),
  });
  assert.equal(foreign.status, 400, foreign.text);
  assert.match(foreign.json().message, /workloads\[0\]\.primarySite: no site named "a1"/);
  const own = await asB('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify(WORKLOADS('b1', 'b2')) });
  assert.equal(own.status, 200, own.text);
  assert.equal(
    (await v.call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify(WORKLOADS('a1', 'a2')) })).status,
    200,
  );

  const scoped = (await asB('/v1/dr/status')).json();
  assert.deepEqual(
    scoped.workloads.map((w: { name: string }) => w.name),
    ['app-b1'],
  );
  assert.deepEqual(
    (await v.call('/v1/dr/status')).json().workloads.map((w: { name: string }) => w.name),
    ['app-a1', 'app-b1'],
  );
  const inUse = await v.call('/v1/sites/b2', { method: 'DELETE' });
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal(inUse.json().error, 'SITE_IN_USE');
});

test('site credentials: a refused registration spends nothing, a newer file retires the older, each registers once', async (t) => {
  const v = await startTestVault(t);
  assert.equal((await v.call('/v1/vaults', post({ name: 'dr', region: 'local' }))).status, 201);
  assert.equal((await v.call('/v1/sites', post({ name: 'dc1', vault: 'dr' }))).status, 201);
  const issue = async () => {
    const r = await v.call('/v1/sites/dc1/credentials', { method: 'POST' });
    assert.equal(r.status, 201, r.text);
    return r.json().secret as string;
  };
  const register = (secret: string, publicKey: string) =>
    https(v.server.caPem, `${v.server.url}/v1/site-agent/register`, post({ secret, publicKey }));
  const key = (type: 'ec' | 'weak') =>
    (type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 1024 })
    ).publicKey
      .export({ type: 'spki', format: 'pem' })
      .toString();

  const old = await issue();
  const weak = await register(old, key('weak'));
  assert.equal(weak.status, 400, weak.text);
  assert.equal(weak.json().error, 'WEAK_PUBLIC_KEY');
  const current = await issue();
  const retired = await register(old, key('ec'));
  assert.equal(retired.status, 401, retired.text);
  assert.equal(retired.json().error, 'SITE_CREDENTIALS_SUPERSEDED');
  const ok = await register(current, key('ec'));
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json().site.name, 'dc1');
  assert.match(ok.json().certificate, /BEGIN CERTIFICATE/);
  const twice = await register(current, key('ec'));
  assert.equal(twice.status, 401, twice.text);
  assert.equal(twice.json().error, 'SITE_CREDENTIALS_USED');
});

// The DR routes' boundaries through the real server: a token scoped to one vault sees and
// touches only that vault's sites and workloads, and site credentials files are single
// use, only the newest valid, and not spent by a refused registration.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { https } from './helpers/https.ts';
import { startTestVault, tokenFor } from './helpers/vault.ts';

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
  const tokenB = await tokenFor(v, 'owner', 'vb');
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

test('who may queue which command: operators probe, owners start and fence, scripts only in plans', async (t) => {
  const v = await startTestVault(t);
  assert.equal((await v.call('/v1/vaults', post({ name: 'va', region: 'local' }))).status, 201);
  for (const name of ['a1', 'a2']) {
    assert.equal((await v.call('/v1/sites', post({ name, vault: 'va' }))).status, 201);
  }
  assert.equal(
    (await v.call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify(WORKLOADS('a1', 'a2')) })).status,
    200,
  );
  const operator = await tokenFor(v, 'operator');
  const queue = (kind: string, token?: string) =>
    v.call('/v1/sites/a1/commands', {
      ...post({ kind, payload: { workload: 'app-a1', epoch: 2 } }),
      ...(token ? { token } : {}),
    });

  assert.equal((await queue('probe', operator)).status, 201);
  assert.equal((await queue('replicate-now', operator)).status, 201);
  for (const kind of ['start', 'stop', 'fence', 'materialise']) {
    const refused = await queue(kind, operator);
    assert.deepEqual([refused.status, refused.json().error], [403, 'FORBIDDEN'], kind);
  }
  assert.equal((await queue('start')).status, 201, 'an owner may start a workload');
  const script = await queue('script');
  assert.equal(script.status, 403);
  assert.match(script.json().message, /only as an action of a recovery plan/);
  const listed = (await v.call('/v1/sites/a1/commands')).json().commands.map((c: { kind: string }) => c.kind);
  assert.deepEqual(listed.sort(), ['probe', 'replicate-now', 'start'].sort());
});

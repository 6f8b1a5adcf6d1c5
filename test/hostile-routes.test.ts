// Every route of the server, enumerated from its route table, called the ways an attacker
// or a confused client would: without credentials, with another tenant's token, with an
// expired or a revoked client certificate, with a malformed body and with an oversized
// one. Each is refused with its status, and nothing the server keeps has changed.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSelfSignedClientCertificate } from '../src/pki/index.ts';
import { type Route, routeTable } from '../src/server/index.ts';
import { https, type RawOptions } from './helpers/https.ts';
import { registerTestAgent, startTestVault, type TestVault, tokenFor } from './helpers/vault.ts';

const DAY = 86_400_000;
const SOME_ID = '00000000-0000-4000-8000-000000000000';

/** A concrete path for a route: vault "a", an id that exists nowhere, an object name. */
function pathOf(route: Route): string {
  return route.path
    .replace(/^\/v1\/vaults\/:name/, '/v1/vaults/va')
    .replace(':name*', 'config')
    .replace(':name', 'someone')
    .replace(':server', SOME_ID)
    .replace(':id', SOME_ID);
}

const guarded = (r: Route) => r.auth !== 'public';

/** Everything the server keeps that a refused call must not have changed. */
async function state(v: TestVault): Promise<string> {
  const get = async (path: string) => (await v.call(path)).text;
  const parts = [await get('/v1/vaults'), await get('/v1/tokens'), await get('/v1/users')];
  for (const vault of ['va', 'vb']) {
    for (const what of ['servers', 'certificates', 'points', 'jobs', 'alerts', 'policy', 'webhooks']) {
      parts.push(await get(`/v1/vaults/${vault}/${what}`));
    }
  }
  const files = await readdir(join(v.dir, 'regions'), { recursive: true });
  // lastSeenAt moves whenever an agent authenticates, refused call or not.
  return JSON.stringify([parts.join('\n').replace(/"lastSeenAt":(null|"[^"]*")/g, ''), files.sort()]);
}

function call(v: TestVault, route: Route, options: RawOptions) {
  return https(v.server.caPem, v.server.url + pathOf(route), { method: route.method, ...options });
}

test('every route refuses hostile calls with the right status and changes nothing', async (t) => {
  const v = await startTestVault(t);
  for (const name of ['va', 'vb']) {
    const r = await v.call('/v1/vaults', { method: 'POST', body: JSON.stringify({ name, region: 'local' }) });
    assert.equal(r.status, 201);
  }
  const agentA = await registerTestAgent(v, 'va', 'web-a');
  await registerTestAgent(v, 'vb', 'web-b');
  const tokenB = await tokenFor(v, 'owner', 'vb');
  const upload = createSelfSignedClientCertificate({ commonName: 'revoked' });
  const added = await v.call('/v1/vaults/va/certificates', {
    method: 'POST',
    body: JSON.stringify({ certificate: upload.certPem }),
  });
  assert.equal(added.status, 201);
  const registered = await https(v.server.caPem, `${v.server.url}/v1/agent/register`, {
    method: 'POST',
    cert: upload.certPem,
    key: upload.keyPem,
    body: JSON.stringify({ vault: 'va', name: 'revoked' }),
  });
  assert.equal(registered.status, 201, registered.text);
  assert.equal(
    (await v.call(`/v1/vaults/va/certificates/${added.json().id}/revoke`, { method: 'POST' })).status,
    200,
  );

  const routes = routeTable().filter(guarded);
  const before = await state(v);
  const failures: string[] = [];
  const expect = (route: Route, what: string, status: number, wanted: number[]) => {
    if (!wanted.includes(status))
      failures.push(`${route.method} ${route.path} ${what}: ${status}, wanted ${wanted}`);
  };

  for (const route of routes) {
    expect(route, 'without credentials', (await call(v, route, {})).status, [401]);
  }
  for (const route of routes.filter((r) => r.auth === 'token' && r.path.startsWith('/v1/vaults/:name'))) {
    const r = await call(v, route, { token: tokenB });
    expect(route, "with vault b's owner token on vault a", r.status, [404]);
  }
  for (const route of routes.filter((r) => r.auth === 'agent')) {
    const revoked = await call(v, route, { cert: upload.certPem, key: upload.keyPem });
    expect(route, 'with a revoked certificate', revoked.status, [401]);
  }
  v.clock.advance(31 * DAY);
  for (const route of routes.filter((r) => r.auth === 'agent' || r.auth === 'client-cert')) {
    const expired = await call(v, route, { cert: agentA.certPem, key: agentA.keyPem });
    expect(route, 'with an expired certificate', expired.status, [401]);
  }
  v.clock.advance(-31 * DAY);

  const asCaller = (route: Route): RawOptions =>
    route.auth === 'token' ? { token: v.token } : { cert: agentA.certPem, key: agentA.keyPem };
  for (const route of routes) {
    if (route.bodyLimit > 0 && route.body !== 'stream') {
      const malformed = await call(v, route, { ...asCaller(route), body: '{"unfinished": ' });
      expect(route, 'with a malformed body', malformed.status, [400]);
    }
    const oversized = await call(v, route, {
      ...asCaller(route),
      headers: {
        'content-type': route.body === 'stream' ? 'application/octet-stream' : 'application/json',
        'content-length': route.bodyLimit + 4 * 1024 * 1024,
        // An upload is checked for its hash header first; give one so the size is what is wrong.
        ...(route.body === 'stream' ? { 'x-offsite-sha256': '0'.repeat(64) } : {}),
      },
      body: Buffer.alloc(16),
    });
    // Writing to another server's repository is refused whatever the size.
    const readOnly = route.method === 'PUT' && route.path.includes(':server');
    expect(route, 'with an oversized body', oversized.status, readOnly ? [403, 413] : [413]);
  }

  assert.deepEqual(failures, []);
  assert.equal(await state(v), before, 'no refused call changed anything');
});

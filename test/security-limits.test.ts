// What a browser and an online guesser meet: security headers on every answer, and a
// limit on failed sign-ins, login-link redemptions and registrations.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { SECURITY_HEADERS } from '../src/server/server.ts';
import { startTestVault } from './helpers/vault.ts';

test('every answer carries the security headers, errors included', async (t) => {
  const v = await startTestVault(t);
  for (const [path, token] of [
    ['/healthz', ''],
    ['/v1/vaults', undefined],
    ['/v1/vaults', ''],
    ['/v1/nowhere', ''],
  ] as const) {
    const r = await v.call(path, token === undefined ? {} : { token });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      assert.equal(r.headers[name.toLowerCase()], value, `${path} (${r.status}): ${name}`);
    }
  }
});

test('failed sign-ins are limited per address and per name; the limit lifts with time', async (t) => {
  const v = await startTestVault(t);
  const created = await v.call('/v1/users', {
    method: 'POST',
    body: JSON.stringify({ name: 'ada', password: 'a long enough password', role: 'reader' }),
  });
  assert.equal(created.status, 201, created.text);
  const login = (password: string, name = 'ada') =>
    v.call('/v1/login', { method: 'POST', token: '', body: JSON.stringify({ name, password }) });

  for (let i = 0; i < 10; i++) assert.equal((await login(`wrong ${i} password`)).status, 401);
  const limited = await login('a long enough password');
  assert.equal(limited.status, 429, 'even the right password waits once the limit is reached');
  assert.equal(limited.json().error, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0);
  assert.equal((await login('anything', 'bob')).status, 429, 'the address is limited too');

  v.clock.advance(15 * 60_000 + 1000);
  const again = await login('a long enough password');
  assert.equal(again.status, 200, again.text);
});

test('registrations with wrong secrets are limited per address', async (t) => {
  const v = await startTestVault(t);
  const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  const register = (secret: string) =>
    v.call('/v1/register', {
      method: 'POST',
      token: '',
      body: JSON.stringify({ secret, publicKey, name: 'web1' }),
    });
  for (let i = 0; i < 10; i++) assert.equal((await register(`guess-${i}`.padEnd(43, 'x'))).status, 401);
  const limited = await register('another-guess'.padEnd(43, 'x'));
  assert.equal(limited.status, 429);
  assert.equal(limited.json().error, 'RATE_LIMITED');
});

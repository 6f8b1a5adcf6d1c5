// The one-time console login link the server prints at start: it opens one session,
// once, within 15 minutes, and never appears in the request log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestVault } from './helpers/vault.ts';

function codeOf(loginUrl: string): string {
  const match = /#login=([A-Za-z0-9_-]+)$/.exec(loginUrl);
  assert.ok(match, loginUrl);
  return match[1]!;
}

test('the login link opens one owner session, once', async (t) => {
  const v = await startTestVault(t);
  const code = codeOf(v.server.loginUrl);
  assert.ok(v.server.loginUrl.startsWith(`${v.server.url}/#login=`));
  const body = JSON.stringify({ code });
  const notAToken = await v.call('/v1/vaults', { token: code });
  assert.equal(notAToken.status, 401, 'the code opens a session and is no API token');
  const first = await v.call('/v1/login/link', { method: 'POST', token: '', body });
  assert.equal(first.status, 200, first.text);
  const session = first.json().token;
  assert.equal(first.json().role, 'owner');
  const vaults = await v.call('/v1/vaults', { token: session });
  assert.equal(vaults.status, 200);
  const again = await v.call('/v1/login/link', { method: 'POST', token: '', body });
  assert.equal(again.status, 401);
  assert.equal(again.json().error, 'LOGIN_LINK_INVALID');
  const asToken = await v.call('/v1/vaults', { token: code });
  assert.equal(asToken.status, 401, 'the spent code is no API token either');
  assert.ok(!JSON.stringify(v.logs).includes(code), 'the code is not logged');
  assert.ok(!JSON.stringify(v.logs).includes(session), 'the session is not logged');
});

test('the login link expires after 15 minutes', async (t) => {
  const v = await startTestVault(t);
  v.clock.advance(15 * 60_000 + 1);
  const late = await v.call('/v1/login/link', {
    method: 'POST',
    token: '',
    body: JSON.stringify({ code: codeOf(v.server.loginUrl) }),
  });
  assert.equal(late.status, 401);
  assert.equal(late.json().error, 'LOGIN_LINK_INVALID');
});

// The console's sign-in, in Chromium against a real vault server: the one-time link and
// user + password both open a session held in an HttpOnly, Secure, SameSite=Strict
// cookie; signing out revokes it; a state-changing request with the cookie but without
// the session's CSRF token is refused (bearer API clients are unaffected); sign-in is
// rate-limited; the console is served with its security headers and cache rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCleanLog,
  createUser,
  loginByLink,
  loginByPassword,
  screenshot,
  startBrowser,
} from './helpers/browser.ts';
import { https } from './helpers/https.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const COOKIE = '__Host-offsite-session';

function asBrowser(v: TestVault, cookie: string, path: string, method = 'GET', headers = {}, body?: unknown) {
  return https(v.server.caPem, v.server.url + path, {
    method,
    headers: { cookie: `${COOKIE}=${cookie}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

test('the one-time link signs in with a secure cookie; signing out revokes the session', async (t) => {
  const v = await startTestVault(t);
  const { open } = await startBrowser(t);
  const { context, page, log } = await open();

  await loginByLink(page, v);
  assert.equal(new URL(page.url()).hash, '', 'the code is removed from the address bar');
  assert.equal(await page.getByTestId('total-vaults').textContent(), '0');
  assert.match((await page.locator('header .who').textContent()) ?? '', /owner/);
  const [cookie] = (await context.cookies()).filter((c) => c.name === COOKIE);
  assert.ok(cookie, 'the session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal((await page.evaluate('document.cookie')) as string, '', 'script on the page cannot read it');
  await screenshot(page, 'console-login-link-dashboard');

  const before = await asBrowser(v, cookie.value, '/v1/vaults');
  assert.equal(before.status, 200, 'the cookie authenticates API reads');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const after = await asBrowser(v, cookie.value, '/v1/vaults');
  assert.equal(after.status, 401, 'the session is revoked, not only forgotten by the browser');

  // The link works once.
  await page.goto(v.server.loginUrl);
  await page.getByText('LOGIN_LINK_INVALID').waitFor();
  await screenshot(page, 'console-login-link-used');
  assertCleanLog(log, [/HTTP 401: POST \/v1\/console\/session/, /status of 401 .*\/v1\/console\/session/]);
});

test('user and password sign in; a wrong password is refused; sign-in is rate-limited', async (t) => {
  const v = await startTestVault(t);
  const password = await createUser(v, 'alice', 'contributor');
  const { open } = await startBrowser(t);
  const { page, log } = await open();

  await loginByPassword(page, v, 'alice', 'not the password at all');
  await page.getByText('wrong user name or password').waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  assert.match((await page.locator('header .who').textContent()) ?? '', /alice\s*contributor/);
  await page.getByRole('button', { name: 'Create vault' }).waitFor();
  await screenshot(page, 'console-login-password');
  assertCleanLog(log, [/HTTP 401: POST \/v1\/console\/session/, /status of 401 .*\/v1\/console\/session/]);

  // Ten failures for one user name, then even the right password waits.
  const attempt = (pw: string) =>
    https(v.server.caPem, `${v.server.url}/v1/console/session`, {
      method: 'POST',
      body: JSON.stringify({ name: 'alice', password: pw }),
    });
  for (let i = 0; i < 10; i++) assert.equal((await attempt('wrong password number')).status, 401);
  const limited = await attempt(password);
  assert.equal(limited.status, 429);
  assert.equal(limited.json().error, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0);
});

test('the session cookie without its CSRF token changes nothing (403); bearer clients are unaffected', async (t) => {
  const v = await startTestVault(t);
  const { open } = await startBrowser(t);
  const { context, page, log } = await open();
  await loginByLink(page, v);
  const cookie = (await context.cookies()).find((c) => c.name === COOKIE)!.value;
  const create = (name: string) => ({ name, region: 'local' });

  const bare = await asBrowser(v, cookie, '/v1/vaults', 'POST', {}, create('forged'));
  assert.equal(bare.status, 403);
  assert.equal(bare.json().error, 'FORBIDDEN');
  const wrong = await asBrowser(
    v,
    cookie,
    '/v1/vaults',
    'POST',
    { 'x-csrf-token': 'A'.repeat(43) },
    create('forged'),
  );
  assert.equal(wrong.status, 403);
  const fromPage = await page.evaluate(
    `fetch('/v1/vaults', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"name":"forged","region":"local"}'}).then(r => r.status)`,
  );
  assert.equal(fromPage, 403, 'a script without the token is refused too');
  const listed = (await v.call('/v1/vaults')).json().vaults;
  assert.deepEqual(listed, [], 'nothing was created');

  const session = (await asBrowser(v, cookie, '/v1/console/session')).json();
  const good = await asBrowser(
    v,
    cookie,
    '/v1/vaults',
    'POST',
    { 'x-csrf-token': session.csrfToken },
    create('real'),
  );
  assert.equal(good.status, 201, good.text);
  const bearer = await v.call('/v1/vaults', { method: 'POST', body: JSON.stringify(create('scripted')) });
  assert.equal(bearer.status, 201, 'a bearer token needs no CSRF token');

  // The console itself sends the token: creating a vault from the page works.
  await page.getByLabel('Name', { exact: true }).fill('from-console');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await page.getByRole('heading', { name: 'Vault from-console' }).waitFor();
  await screenshot(page, 'console-csrf-vault-created');
  assertCleanLog(log, [/HTTP 403: POST \/v1\/vaults/, /status of 403 .*\/v1\/vaults\)/]);
});

test('the console is served with security headers, cache rules and its own routes', async (t) => {
  const v = await startTestVault(t);
  const index = await https(v.server.caPem, `${v.server.url}/`);
  assert.equal(index.status, 200);
  assert.match(String(index.headers['content-type']), /^text\/html/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  const csp = String(index.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|https?:/, 'no inline script, nothing from elsewhere');
  assert.equal(index.headers['x-frame-options'], 'DENY');
  assert.doesNotMatch(index.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in index.html');
  assert.doesNotMatch(index.text, /https?:\/\//, 'no external font or CDN');

  const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)![1]!;
  const asset = await https(v.server.caPem, v.server.url + script);
  assert.equal(asset.status, 200);
  assert.match(String(asset.headers['content-type']), /^text\/javascript/);
  assert.match(String(asset.headers['cache-control']), /max-age=31536000, immutable/);
  const style = /href="(\/assets\/[^"]+\.css)"/.exec(index.text)![1]!;
  assert.match(
    String((await https(v.server.caPem, v.server.url + style)).headers['content-type']),
    /^text\/css/,
  );

  const deep = await https(v.server.caPem, `${v.server.url}/vaults/prod`);
  assert.equal(deep.text, index.text, 'an app route answers index.html');
  assert.equal((await https(v.server.caPem, `${v.server.url}/assets/missing.js`)).status, 404);
  const api = await https(v.server.caPem, `${v.server.url}/v1/no-such-route`);
  assert.equal(api.status, 404);
  assert.equal(api.json().error, 'NOT_FOUND', 'the API keeps its JSON 404');
  assert.equal((await https(v.server.caPem, `${v.server.url}/`, { method: 'POST' })).status, 404);

  const { open } = await startBrowser(t);
  const { page, log } = await open();
  await page.goto(`${v.server.url}/vaults/prod`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await screenshot(page, 'console-deep-link-login');
  assertCleanLog(log);
});

// The vault server end to end over real HTTPS on loopback: bootstrap, the admin routes
// through the `offsite vault` CLI, authentication and roles, hostile input, TLS policy,
// health and metrics, the OpenAPI document, file modes, logs, and graceful shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { connect } from 'node:tls';
import {
  hashToken,
  type LogEntry,
  newToken,
  type RunningServer,
  routeTable,
  startServer,
} from '../src/server/index.ts';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';

type T = Parameters<typeof tempDir>[0];

interface Fixture {
  dir: string;
  server: RunningServer;
  token: string;
  logs: LogEntry[];
  env: Record<string, string>;
  call: (path: string, options?: Parameters<typeof https>[2]) => ReturnType<typeof https>;
}

async function fixture(t: T & { after: (fn: () => Promise<void>) => void }): Promise<Fixture> {
  const dir = await tempDir(t, 'offsite-server-');
  const logs: LogEntry[] = [];
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [
      { name: 'local', url: `file://${join(dir, 'r1')}` },
      { name: 'eu-west', url: `file://${join(dir, 'r2')}` },
    ],
    log: (e) => logs.push(e),
  });
  t.after(() => server.close());
  const token = (await readFile(server.files.adminToken, 'utf8')).trim();
  const env = { OFFSITE_SERVER: server.url, OFFSITE_TOKEN: token, OFFSITE_CA_CERT: server.files.caCert };
  const call = (path: string, options: Parameters<typeof https>[2] = {}) =>
    https(server.caPem, server.url + path, { token, ...options });
  return { dir, server, token, logs, env, call };
}

async function tokenWithRole(f: Fixture, role: 'reader' | 'operator' | 'contributor'): Promise<string> {
  const token = newToken();
  const catalog = SqliteCatalog.open(f.server.files.catalog);
  try {
    await catalog.createToken({
      tokenHash: hashToken(token),
      name: role,
      role,
      vaultId: null,
      createdAt: Date.now(),
      expiresAt: null,
    });
  } finally {
    await catalog.close();
  }
  return token;
}

test('vault create, list, show and delete through the CLI', async (t) => {
  const f = await fixture(t);
  const created = await runCli(
    [
      'vault',
      'create',
      'prod-db',
      '--region',
      'eu-west',
      '--quota',
      '2GiB',
      '--soft-delete-days',
      '30',
      '--json',
    ],
    f.env,
  );
  assert.equal(created.code, 0, created.stderr);
  const vault = lastJson(created);
  assert.deepEqual(
    [vault.name, vault.region, vault.quotaBytes, vault.softDeleteDays],
    ['prod-db', 'eu-west', 2 * 1024 ** 3, 30],
  );

  const text = await runCli(['vault', 'create', 'web', '--region', 'local'], f.env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /created vault web in region local/);

  const listed = await runCli(['vault', 'list', '--json'], f.env);
  assert.deepEqual(
    lastJson(listed).vaults.map((v: { name: string }) => v.name),
    ['prod-db', 'web'],
  );
  const table = await runCli(['vault', 'list'], f.env);
  assert.match(table.stdout, /^NAME\s+REGION\s+QUOTA/);
  assert.match(table.stdout, /prod-db\s+eu-west\s+2\.00 GiB\s+30d/);

  const shown = await runCli(['vault', 'show', 'prod-db', '--json'], f.env);
  assert.equal(lastJson(shown).id, vault.id);

  const tokenFile = join(f.dir, 'token');
  await writeFile(tokenFile, `${f.token}\n`, { mode: 0o600 });
  const deleted = await runCli(['vault', 'delete', 'web', '--token-file', tokenFile], {
    ...f.env,
    OFFSITE_TOKEN: '',
  });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /soft-deleted; it is kept for 14 days/);
  const after = await runCli(['vault', 'list', '--json'], f.env);
  assert.deepEqual(
    lastJson(after).vaults.map((v: { name: string }) => v.name),
    ['prod-db'],
  );
  const gone = lastJson(await runCli(['vault', 'show', 'web', '--json'], f.env));
  assert.ok(gone.deletedAt, 'a soft-deleted vault is still shown, with deletedAt');

  const missing = await runCli(['vault', 'show', 'nope', '--json'], f.env);
  assert.equal(missing.code, 1);
  assert.equal(lastJson(missing).error, 'VAULT_NOT_FOUND');
  const dup = await runCli(['vault', 'create', 'prod-db', '--region', 'local', '--json'], f.env);
  assert.equal(dup.code, 1);
  assert.equal(lastJson(dup).error, 'VAULT_EXISTS');
});

test('the CLI trusts only the configured CA', async (t) => {
  const f = await fixture(t);
  const other = await tempDir(t);
  const stranger = await startServer({ dataDir: other, listen: '127.0.0.1:0', log: () => {} });
  t.after(() => stranger.close());
  const r = await runCli(['vault', 'list', '--json'], { ...f.env, OFFSITE_CA_CERT: stranger.files.caCert });
  assert.equal(r.code, 1);
  assert.equal(lastJson(r).error, 'SERVER_NOT_TRUSTED');
});

test('tokens: none or unknown is 401, a role too low is 403, roles are ranked', async (t) => {
  const f = await fixture(t);
  const none = await f.call('/v1/vaults', { token: '' });
  assert.equal(none.status, 401);
  assert.equal(none.json().error, 'UNAUTHORIZED');
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  assert.equal((await f.call('/v1/vaults', { token: newToken() })).status, 401);
  assert.equal(
    (await f.call('/v1/vaults', { token: 'x', headers: { authorization: 'Basic abc' } })).status,
    401,
  );

  const reader = await tokenWithRole(f, 'reader');
  assert.equal((await f.call('/v1/vaults', { token: reader })).status, 200);
  const refused = await f.call('/v1/vaults', {
    method: 'POST',
    token: reader,
    body: '{"name":"aa","region":"local"}',
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.json().error, 'FORBIDDEN');

  const contributor = await tokenWithRole(f, 'contributor');
  const made = await f.call('/v1/vaults', {
    method: 'POST',
    token: contributor,
    body: '{"name":"aa","region":"local"}',
  });
  assert.equal(made.status, 201);
  assert.equal((await f.call('/v1/vaults/aa', { method: 'DELETE', token: contributor })).status, 403);
  assert.equal((await f.call('/v1/vaults/aa', { method: 'DELETE' })).status, 200);
});

test('hostile and wrong input gets a clear status and changes nothing', async (t) => {
  const f = await fixture(t);
  const post = (body: string, headers: Record<string, string> = {}) =>
    f.call('/v1/vaults', { method: 'POST', body, headers });
  const cases: [string, number, string][] = [
    ['{"name":"ok-name","region":"mars"}', 400, 'UNKNOWN_REGION'],
    ['{"name":"ok-name",', 400, 'BAD_JSON'],
    ['[1,2]', 400, 'BAD_BODY'],
    ['{"name":"../etc","region":"local"}', 400, 'BAD_FIELD'],
    ['{"name":"ok-name","region":"local","softDeleteDays":0}', 400, 'BAD_FIELD'],
    ['{"name":"ok-name","region":"local","quotaBytes":-1}', 400, 'BAD_FIELD'],
    ['{"name":"ok-name","region":"local","admin":true}', 400, 'BAD_FIELD'],
    [JSON.stringify({ name: 'ok-name', region: 'local', pad: 'x'.repeat(100_000) }), 413, 'BODY_TOO_LARGE'],
  ];
  for (const [body, status, code] of cases) {
    const r = await post(body);
    assert.equal(r.status, status, body.slice(0, 60));
    assert.equal(r.json().error, code, body.slice(0, 60));
    assert.ok(r.json().message);
  }
  // Far past the limit the server answers 413 without reading the rest and closes the
  // connection, so a client still writing may see the reset before the answer.
  const huge = await post(JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) })).catch((err) => err);
  assert.ok(huge.status === 413 || /ECONNRESET|EPIPE/.test(String(huge.code)), String(huge));
  const typed = await post('{"name":"ok-name","region":"local"}', { 'content-type': 'text/plain' });
  assert.equal(typed.status, 415);
  assert.equal(typed.json().error, 'UNSUPPORTED_MEDIA_TYPE');
  const missing = await f.call('/v1/nothing-here');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().error, 'NOT_FOUND');
  const wrong = await f.call('/v1/vaults', { method: 'PUT' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'POST, GET');
  const withBody = await f.call('/v1/vaults', { method: 'GET', body: 'x' });
  assert.equal(withBody.status, 413, withBody.text);
  assert.deepEqual((await f.call('/v1/vaults')).json().vaults, [], 'nothing was created');
});

test('TLS 1.1 is refused; TLS 1.2 works', async (t) => {
  const f = await fixture(t);
  const handshake = (version: 'TLSv1.1' | 'TLSv1.2') =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: f.server.port,
        ca: f.server.caPem,
        servername: 'localhost',
        minVersion: version === 'TLSv1.1' ? 'TLSv1' : version,
        maxVersion: version,
        // Let this client offer TLS 1.1 at all, so it is the server that refuses it.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.once('secureConnect', () => {
        resolve(socket.getProtocol() ?? '');
        socket.end();
      });
      socket.once('error', reject);
    });
  assert.equal(await handshake('TLSv1.2'), 'TLSv1.2');
  await assert.rejects(
    handshake('TLSv1.1'), // Alert 70 from the server: it, not this client, refused the version.
    (err: NodeJS.ErrnoException) => err.code === 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  );
});

test('/healthz, /metrics and the OpenAPI document', async (t) => {
  const f = await fixture(t);
  const health = await f.call('/healthz', { token: '' });
  assert.deepEqual([health.status, health.json()], [200, { status: 'ok' }]);
  await f.call('/v1/vaults', { method: 'POST', body: '{"name":"m1","region":"local"}' });
  await f.call('/v1/vaults', { token: '' });
  const metrics = await f.call('/metrics', { token: '' });
  assert.equal(metrics.status, 200);
  assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.text, /^# TYPE offsite_http_requests_total counter$/m);
  assert.match(
    metrics.text,
    /^offsite_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m,
  );
  assert.match(
    metrics.text,
    /^offsite_http_requests_total\{method="POST",route="\/v1\/vaults",status="201"\} 1$/m,
  );
  assert.match(
    metrics.text,
    /^offsite_http_requests_total\{method="GET",route="\/v1\/vaults",status="401"\} 1$/m,
  );
  assert.match(metrics.text, /^offsite_vaults 1$/m);

  const doc = (await f.call('/v1/openapi.json', { token: '' })).json();
  assert.equal(doc.openapi, '3.1.0');
  for (const r of routeTable()) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path} is documented`);
  }
});

test('bootstrap: secrets are 0600, the admin token is stored hashed, restarts reuse everything', async (t) => {
  const f = await fixture(t);
  const { files } = f.server;
  assert.equal((await stat(files.adminToken)).mode & 0o777, 0o600);
  assert.equal((await stat(files.caKey)).mode & 0o777, 0o600);
  assert.equal((await stat(files.serverKey)).mode & 0o777, 0o600);
  assert.match(f.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const catalogBytes = await readFile(files.catalog);
  assert.ok(!catalogBytes.includes(f.token), 'the catalog holds no plain token');

  await f.call('/v1/vaults', { method: 'POST', body: '{"name":"kept","region":"local"}' });
  await f.server.close();
  const before = { ca: await readFile(files.caCert, 'utf8'), cert: await readFile(files.serverCert, 'utf8') };
  const again = await startServer({
    dataDir: join(f.dir, 'data'),
    listen: '127.0.0.1:0',
    regions: f.server.regions,
    log: () => {},
  });
  t.after(() => again.close());
  assert.equal(again.caPem, before.ca);
  assert.equal(await readFile(files.serverCert, 'utf8'), before.cert);
  assert.equal((await readFile(files.adminToken, 'utf8')).trim(), f.token);
  const r = await https(again.caPem, `${again.url}/v1/vaults/kept`, { token: f.token });
  assert.equal(r.status, 200);
});

test('the token never appears in the log; each request is one JSON line', async (t) => {
  const f = await fixture(t);
  await f.call('/v1/vaults');
  await f.call(`/v1/vaults/x?token=1`, { method: 'DELETE' });
  await f.call('/v1/vaults', { token: `${f.token}x` });
  const entry = f.logs.find((e) => e.msg === 'request' && e.route === '/v1/vaults/:name')!;
  assert.equal(entry.method, 'DELETE');
  assert.equal(entry.path, '/v1/vaults/x');
  assert.equal(entry.status, 404);
  assert.equal(typeof entry.ms, 'number');
  assert.ok(!JSON.stringify(f.logs).includes(f.token));
});

test('close lets a request in flight finish', async (t) => {
  const f = await fixture(t);
  const body = Buffer.from('{"name":"late","region":"local"}');
  const answer = new Promise<number>((resolve, reject) => {
    const req = request(`${f.server.url}/v1/vaults`, {
      method: 'POST',
      ca: f.server.caPem,
      headers: {
        authorization: `Bearer ${f.token}`,
        'content-type': 'application/json',
        'content-length': body.length,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.write(body.subarray(0, 5));
    // Close once the server has the request, then send the rest.
    setTimeout(() => {
      closed = f.server.close();
      setTimeout(() => req.end(body.subarray(5)), 100);
    }, 200);
  });
  let closed: Promise<void> | undefined;
  assert.equal(await answer, 201);
  await closed;
  const catalog = SqliteCatalog.open(f.server.files.catalog);
  t.after(() => catalog.close());
  assert.equal((await catalog.getVaultByName('late')).region, 'local');
});

test('`offsite server` prints its URL, serves, and exits 0 on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const main = resolve(import.meta.dirname, '../src/cli/main.ts');
  const child = spawn(process.execPath, [main, 'server', '--data', dir, '--listen', '127.0.0.1:0'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (https:\/\/\S+)/.exec(stdout);
      if (m && stdout.includes('regions:')) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`server exited early: ${stderr}`)));
  });
  assert.match(stdout, new RegExp(`admin token: ${join(dir, 'admin-token')}`));
  assert.match(stdout, new RegExp(`CA certificate: ${join(dir, 'ca.pem')}`));
  assert.match(stdout, /regions: local=file:\/\//);
  const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  const env = { OFFSITE_SERVER: url, OFFSITE_TOKEN: token, OFFSITE_CA_CERT: join(dir, 'ca.pem') };
  const made = await runCli(['vault', 'create', 'child', '--region', 'local', '--json'], env);
  assert.equal(made.code, 0, made.stderr);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(!stderr.includes(token), 'the token is not logged');
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  assert.ok(lines.some((l) => JSON.parse(l).route === '/v1/vaults'));
});

// People and operations of the vault server end to end, over real HTTPS on loopback with
// a real SQLite catalog: users and login, API tokens and their scope, jobs agents report,
// alerts (failed backup, quota, certificate expiry), webhook delivery to a real HTTP
// receiver (signature, retry, restart), the `offsite user|token|vault` CLI, and logs
// that never hold a secret.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { type LogEntry, startServer } from '../src/server/index.ts';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { registerTestAgent, startTestVault, type TestAgent, type TestVault } from './helpers/vault.ts';

type T = Parameters<typeof startTestVault>[0];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PASSWORD = 'a long enough password 1';
const SECRET = 'webhook-secret-for-tests-0123456789';

const json = (value: unknown) => ({ body: JSON.stringify(value) });
const post = (value: unknown) => ({ method: 'POST', ...json(value) });
const patch = (value: unknown) => ({ method: 'PATCH', ...json(value) });

/** A token made through the API by the admin; returns its secret. */
async function apiToken(v: TestVault, role: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await v.call('/v1/tokens', post({ name: `${role} token`, role, ...extra }));
  assert.equal(r.status, 201, r.text);
  return r.json().token;
}

async function withCatalog<R>(v: TestVault, fn: (c: SqliteCatalog) => Promise<R>): Promise<R> {
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    return await fn(catalog);
  } finally {
    await catalog.close();
  }
}

/** What the point routes do after an upload: a pack recorded and a recovery point committed. */
function commitPoint(v: TestVault, agent: TestAgent, name: string, size = 10): Promise<void> {
  return withCatalog(v, async (c) => {
    const pack = await c.recordPack({
      serverId: agent.server.id,
      name: `pack-${name}`,
      size,
      createdAt: v.clock.now(),
    });
    const at = v.clock.now();
    await c.commitPoint({
      serverId: agent.server.id,
      snapshotName: name,
      time: at,
      stats: {},
      packSeqs: [pack.seq],
      committedAt: at,
    });
  });
}

async function startJob(agent: TestAgent, kind = 'backup'): Promise<string> {
  const r = await agent.call('/v1/agent/jobs', post({ kind }));
  assert.equal(r.status, 201, r.text);
  return r.json().id;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP webhook receiver on loopback; `status(n)` answers the n-th request. */
async function receiver(t: T, status: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = status(received.length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received };
}

function assertBetween(value: number, low: number, high: number): void {
  assert.ok(value >= low && value <= high, `${value} is not within [${low}, ${high}]`);
}

function assertNoSecrets(logs: LogEntry[], secrets: string[]): void {
  const text = JSON.stringify(logs);
  assert.ok(logs.length > 0);
  for (const s of secrets) assert.ok(!text.includes(s), 'a secret reached the log');
}

test('users: owners create them, login gives a 12-hour session, a wrong password is the same 401', async (t) => {
  const v = await startTestVault(t);
  const created = await v.call('/v1/users', post({ name: 'alice', password: PASSWORD, role: 'contributor' }));
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(Object.keys(created.json()).sort(), ['createdAt', 'id', 'name', 'role']);
  const weak = await v.call('/v1/users', post({ name: 'bob', password: 'short', role: 'reader' }));
  assert.deepEqual([weak.status, weak.json().error], [400, 'WEAK_PASSWORD']);
  const again = await v.call('/v1/users', post({ name: 'alice', password: PASSWORD, role: 'reader' }));
  assert.equal(again.status, 409);

  const before = v.clock.now();
  const login = await v.call('/v1/login', { token: '', ...post({ name: 'alice', password: PASSWORD }) });
  assert.equal(login.status, 200, login.text);
  const session = login.json();
  assert.equal(session.user.role, 'contributor');
  assertBetween(Date.parse(session.expiresAt), before + 12 * HOUR, v.clock.now() + 12 * HOUR);
  assert.equal((await v.call('/v1/vaults', { token: session.token })).status, 200);
  const asAlice = await v.call('/v1/users', { token: session.token });
  assert.deepEqual([asAlice.status, asAlice.json().error], [403, 'FORBIDDEN']);

  const wrong = await v.call('/v1/login', {
    token: '',
    ...post({ name: 'alice', password: `${PASSWORD}x` }),
  });
  const nobody = await v.call('/v1/login', { token: '', ...post({ name: 'nobody', password: PASSWORD }) });
  assert.equal(wrong.status, 401);
  assert.equal(nobody.text, wrong.text, 'an unknown name and a wrong password look the same');

  v.clock.advance(12 * HOUR);
  assert.equal((await v.call('/v1/vaults', { token: session.token })).status, 401, 'the session expired');
  const fresh = (
    await v.call('/v1/login', { token: '', ...post({ name: 'alice', password: PASSWORD }) })
  ).json();
  const demoted = await v.call('/v1/users/alice', patch({ role: 'reader' }));
  assert.deepEqual([demoted.json().role, demoted.json().revokedTokens], ['reader', 1]);
  assert.equal(
    (await v.call('/v1/vaults', { token: fresh.token })).status,
    401,
    'a role change signs the user out',
  );
  const listed = (await v.call('/v1/users')).json().users;
  assert.deepEqual(
    listed.map((u: { name: string; role: string }) => [u.name, u.role]),
    [['alice', 'reader']],
  );
  assert.ok(!(await readFile(v.server.files.catalog)).includes(PASSWORD), 'no clear password in the catalog');
  assertNoSecrets(v.logs, [PASSWORD, session.token, fresh.token]);
});

test('role ceiling: nobody creates a user or token above their role or outside their vault', async (t) => {
  const v = await startTestVault(t);
  await v.call('/v1/vaults', post({ name: 'alpha', region: 'local' }));
  const contributor = await apiToken(v, 'contributor');
  const asContributor = (path: string, o: Parameters<TestVault['call']>[1]) =>
    v.call(path, { token: contributor, ...o });
  const owner = await asContributor('/v1/tokens', post({ name: 'up', role: 'owner' }));
  assert.deepEqual([owner.status, owner.json().error], [403, 'FORBIDDEN']);
  assert.equal((await asContributor('/v1/tokens', post({ name: 'same', role: 'contributor' }))).status, 201);
  assert.equal(
    (await asContributor('/v1/users', post({ name: 'eve', password: PASSWORD, role: 'reader' }))).status,
    403,
  );
  const reader = await apiToken(v, 'reader');
  assert.equal(
    (await v.call('/v1/tokens', { token: reader, ...post({ name: 'r', role: 'reader' }) })).status,
    403,
  );

  const scopedOwner = await apiToken(v, 'owner', { vault: 'alpha' });
  const user = await v.call('/v1/users', {
    token: scopedOwner,
    ...post({ name: 'eve', password: PASSWORD, role: 'reader' }),
  });
  assert.equal(user.status, 403, 'users are not one vault’s to manage');
  const child = await v.call('/v1/tokens', {
    token: scopedOwner,
    ...post({ name: 'child', role: 'reader' }),
  });
  assert.equal(child.json().vault, 'alpha', 'a scoped token makes tokens for its vault');

  const admin = (await v.call('/v1/tokens')).json().tokens.find((x: { name: string }) => x.name === 'admin');
  const revoke = await asContributor(`/v1/tokens/${admin.id}`, { method: 'DELETE' });
  assert.deepEqual([revoke.status, revoke.json().error], [403, 'FORBIDDEN']);
  assert.equal((await v.call('/v1/vaults')).status, 200, 'the admin token still works');
});

test('tokens: the secret is shown once, never listed; revoked and expired tokens are 401; a scoped token sees one vault', async (t) => {
  const v = await startTestVault(t);
  await v.call('/v1/vaults', post({ name: 'alpha', region: 'local' }));
  await v.call('/v1/vaults', post({ name: 'beta', region: 'local' }));
  const before = v.clock.now();
  const created = await v.call(
    '/v1/tokens',
    post({ name: 'ci', role: 'reader', vault: 'alpha', expiresDays: 2 }),
  );
  assert.equal(created.status, 201, created.text);
  const ci = created.json();
  assert.match(ci.token, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual([ci.vault, ci.state], ['alpha', 'active']);
  assertBetween(Date.parse(ci.expiresAt), before + 2 * DAY, v.clock.now() + 2 * DAY);

  const as = (path: string) => v.call(path, { token: ci.token });
  assert.equal((await as('/v1/vaults/alpha')).status, 200);
  for (const path of ['/v1/vaults/beta', '/v1/vaults/beta/jobs', '/v1/vaults/beta/alerts']) {
    assert.equal((await as(path)).status, 404, path);
  }
  assert.deepEqual(
    (await as('/v1/vaults')).json().vaults.map((x: { name: string }) => x.name),
    ['alpha'],
  );
  assert.deepEqual(
    (await as('/v1/tokens')).json().tokens.map((x: { name: string }) => x.name),
    ['ci'],
  );
  const listed = await v.call('/v1/tokens');
  assert.ok(!listed.text.includes(ci.token) && !listed.text.includes(v.token), 'no secret is listed');
  assert.ok(!/tokenHash|token"/.test(listed.text));

  v.clock.advance(2 * DAY);
  assert.equal((await as('/v1/vaults/alpha')).status, 401, 'expired');
  const other = (await v.call('/v1/tokens', post({ name: 'ops', role: 'operator' }))).json();
  assert.equal((await v.call('/v1/vaults', { token: other.token })).status, 200);
  const revoked = await v.call(`/v1/tokens/${other.id}`, { method: 'DELETE' });
  assert.deepEqual([revoked.status, revoked.json().state], [200, 'revoked']);
  assert.equal((await v.call('/v1/vaults', { token: other.token })).status, 401, 'revoked');
  assertNoSecrets(v.logs, [ci.token, other.token, v.token]);
});

test('jobs: agents report their own jobs with bounded skipped files; admins list and show them', async (t) => {
  const v = await startTestVault(t);
  const web = await registerTestAgent(v, 'prod', 'web-1');
  const db = await registerTestAgent(v, 'prod', 'db-1');
  const id = await startJob(web);
  assert.equal(
    (await v.call('/v1/agent/jobs', post({ kind: 'backup' }))).status,
    401,
    'a token is not an agent',
  );
  const stolen = await db.call(`/v1/agent/jobs/${id}`, patch({ status: 'failed', error: 'x' }));
  assert.deepEqual([stolen.status, stolen.json().error], [404, 'JOB_NOT_FOUND']);
  const early = await web.call(`/v1/agent/jobs/${id}`, patch({ status: 'succeeded' }));
  assert.deepEqual([early.status, early.json().error], [409, 'BACKUP_NOT_COMMITTED']);
  const progress = await web.call(`/v1/agent/jobs/${id}`, patch({ status: 'running', bytes: 100 }));
  assert.deepEqual([progress.status, progress.json().bytes], [200, 100]);

  await commitPoint(v, web, 'snap-1');
  v.clock.advance(60_000);
  const skippedFiles = Array.from({ length: 1500 }, (_, i) => ({
    path: `/data/${i}-${'x'.repeat(i === 0 ? 5000 : 1)}`,
    error: 'EACCES',
  }));
  const done = await web.call(
    `/v1/agent/jobs/${id}`,
    patch({ status: 'warning', bytes: 4096, skippedFiles }),
  );
  assert.equal(done.status, 200, done.text);
  const job = done.json();
  assert.deepEqual([job.status, job.skippedCount], ['warning', 1500]);
  assert.ok(job.durationMs >= 60_000, 'the clock moved a minute');
  assert.deepEqual([job.skippedFiles.length, job.skippedFilesOmitted], [1000, 500]);
  assert.equal(job.skippedFiles[0].path.length, 1024);
  const twice = await web.call(`/v1/agent/jobs/${id}`, patch({ status: 'failed' }));
  assert.deepEqual([twice.status, twice.json().error], [409, 'JOB_FINISHED']);
  const bad = await web.call(`/v1/agent/jobs/${id}`, patch({ status: 'done' }));
  assert.deepEqual([bad.status, bad.json().error], [400, 'BAD_FIELD']);

  v.clock.advance(1000);
  await startJob(db, 'verify');
  const all = (await v.call('/v1/vaults/prod/jobs')).json().jobs;
  assert.deepEqual(
    all.map((j: { kind: string; server: string }) => [j.kind, j.server]),
    [
      ['verify', 'db-1'],
      ['backup', 'web-1'],
    ],
  );
  assert.equal(all[1].skippedFiles, undefined, 'the list leaves the files out');
  const mine = (await v.call('/v1/vaults/prod/jobs?server=web-1&limit=5')).json().jobs;
  assert.deepEqual(
    mine.map((j: { id: string }) => j.id),
    [id],
  );
  assert.equal((await v.call('/v1/vaults/prod/jobs?limit=1')).json().jobs.length, 1);
  assert.equal((await v.call('/v1/vaults/prod/jobs?server=nope')).status, 404);
  assert.equal((await v.call('/v1/vaults/prod/jobs?limit=0')).status, 400);
  const shown = (await v.call(`/v1/vaults/prod/jobs/${id}`)).json();
  assert.deepEqual(
    [shown.skippedFiles.length, shown.skippedFiles[1]],
    [1000, { path: '/data/1-x', error: 'EACCES' }],
  );
  await v.call('/v1/vaults', post({ name: 'other', region: 'local' }));
  assert.equal((await v.call(`/v1/vaults/other/jobs/${id}`)).status, 404, 'a job of another vault');
});

test('a failed backup raises an alert, POSTed signed to a webhook; a later backup resolves it', async (t) => {
  const v = await startTestVault(t);
  const hook = await receiver(t);
  const web = await registerTestAgent(v, 'prod', 'web-1');
  const added = await v.call('/v1/vaults/prod/webhooks', post({ url: hook.url, secret: SECRET }));
  assert.equal(added.status, 201, added.text);
  assert.deepEqual([added.json().signed, added.json().url], [true, hook.url]);
  const listed = await v.call('/v1/vaults/prod/webhooks');
  assert.equal(listed.json().webhooks.length, 1);
  assert.ok(!listed.text.includes(SECRET), 'the secret is never listed');
  const reader = await apiToken(v, 'reader');
  assert.equal(
    (await v.call('/v1/vaults/prod/webhooks', { token: reader, ...post({ url: hook.url }) })).status,
    403,
  );

  const failedJob = await startJob(web);
  await web.call(`/v1/agent/jobs/${failedJob}`, patch({ status: 'failed', error: 'disk full\nat line 3' }));
  const [alert] = (await v.call('/v1/vaults/prod/alerts')).json().alerts;
  assert.deepEqual(
    [alert.kind, alert.severity, alert.state, alert.server, alert.occurrences],
    ['backup-failed', 'critical', 'open', 'web-1', 1],
  );
  assert.match(alert.message, /backup of server web-1 failed: disk full at line 3/);

  await v.server.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 1);
  const [got] = hook.received;
  const expected = `sha256=${createHmac('sha256', SECRET).update(got!.body).digest('hex')}`;
  assert.equal(got!.headers['x-offsite-signature'], expected);
  const sent = JSON.parse(got!.body);
  assert.deepEqual([sent.vault.name, sent.alert.id, sent.alert.kind], ['prod', alert.id, 'backup-failed']);

  const operator = await apiToken(v, 'operator');
  const byReader = await v.call(`/v1/vaults/prod/alerts/${alert.id}/acknowledge`, {
    token: reader,
    method: 'POST',
  });
  assert.equal(byReader.status, 403);
  const acked = await v.call(`/v1/vaults/prod/alerts/${alert.id}/acknowledge`, {
    token: operator,
    method: 'POST',
  });
  assert.deepEqual([acked.status, acked.json().state], [200, 'acknowledged']);

  await web.call(`/v1/agent/jobs/${await startJob(web)}`, patch({ status: 'failed', error: 'again' }));
  await v.server.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 2, 'each failure is an event');
  assert.equal(JSON.parse(hook.received[1]!.body).alert.occurrences, 2);

  const okJob = await startJob(web);
  await commitPoint(v, web, 'snap-ok');
  assert.equal((await web.call(`/v1/agent/jobs/${okJob}`, patch({ status: 'succeeded' }))).status, 200);
  assert.deepEqual((await v.call('/v1/vaults/prod/alerts')).json().alerts, []);
  const history = (await v.call('/v1/vaults/prod/alerts?all=1')).json().alerts;
  assert.deepEqual(
    history.map((a: { state: string }) => a.state),
    ['resolved'],
  );
  const deliveries = (await v.call(`/v1/vaults/prod/webhooks/${added.json().id}/deliveries`)).json()
    .deliveries;
  assert.deepEqual(
    deliveries.map((d: { state: string }) => d.state),
    ['delivered', 'delivered'],
  );
  assert.ok(
    !(await readFile(v.server.files.catalog)).includes(SECRET),
    'no clear webhook secret in the catalog',
  );
  const deleted = await v.call(`/v1/vaults/prod/webhooks/${added.json().id}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.deepEqual((await v.call('/v1/vaults/prod/webhooks')).json().webhooks, []);
  assertNoSecrets(v.logs, [SECRET, operator, reader]);
});

test('a webhook that fails first gets the alert once after a retry, across a server restart', async (t) => {
  const v = await startTestVault(t);
  const hook = await receiver(t, (n) => (n === 1 ? 500 : 200));
  const web = await registerTestAgent(v, 'prod', 'web-1');
  await v.call('/v1/vaults/prod/webhooks', post({ url: hook.url }));
  await web.call(`/v1/agent/jobs/${await startJob(web)}`, patch({ status: 'failed', error: 'boom' }));
  await v.server.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 1);
  assert.equal(hook.received[0]!.headers['x-offsite-signature'], undefined, 'no secret, no signature');

  await v.server.close();
  const again = await startServer({
    dataDir: join(v.dir, 'data'),
    listen: '127.0.0.1:0',
    regions: v.server.regions,
    log: (e) => v.logs.push(e),
    now: v.clock.now,
    background: false,
  });
  t.after(() => again.close());
  await again.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 1, 'not due yet');
  v.clock.advance(30_000);
  await again.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 2, 'retried after the restart');
  assert.equal(hook.received[1]!.body, hook.received[0]!.body);
  v.clock.advance(DAY);
  await again.background.runNow('webhook-delivery');
  assert.equal(hook.received.length, 2, 'delivered once, never repeated');
});

test('quota alerts at 80, 95 and 100 percent, from the sizes of the vault’s packs', async (t) => {
  const v = await startTestVault(t);
  assert.equal(
    (await v.call('/v1/vaults', post({ name: 'prod', region: 'local', quotaBytes: 1000 }))).status,
    201,
  );
  const web = await registerTestAgent(v, 'prod', 'web-1');
  const open = async () => {
    await v.server.background.runNow('quota-alerts');
    return (await v.call('/v1/vaults/prod/alerts'))
      .json()
      .alerts.map((a: { kind: string; severity: string }) => [a.kind, a.severity]);
  };
  await commitPoint(v, web, 's1', 700);
  assert.deepEqual(await open(), []);
  await commitPoint(v, web, 's2', 100);
  assert.deepEqual(await open(), [['quota', 'warning']]);
  await commitPoint(v, web, 's3', 150);
  assert.deepEqual(await open(), [['quota', 'critical']]);
  await commitPoint(v, web, 's4', 50);
  assert.deepEqual(await open(), [['quota', 'critical']]);
  const [full] = (await v.call('/v1/vaults/prod/alerts')).json().alerts;
  assert.match(full.message, /vault prod is full/);
  assert.equal((await v.call('/v1/vaults/prod/alerts?all=1')).json().alerts.length, 3);
});

test('a certificate that expires within 14 days raises an alert; a credentials file does not', async (t) => {
  const v = await startTestVault(t);
  await registerTestAgent(v, 'prod', 'web-1');
  await withCatalog(v, async (c) => {
    const vault = await c.getVaultByName('prod');
    await c.issueCredentials({
      vaultId: vault.id,
      secretHash: 'h'.repeat(64),
      issuedAt: v.clock.now(),
      expiresAt: v.clock.now() + 2 * DAY,
    });
  });
  await v.server.background.runNow('certificate-alerts');
  assert.deepEqual((await v.call('/v1/vaults/prod/alerts')).json().alerts, []);
  v.clock.advance(17 * DAY);
  await v.server.background.runNow('certificate-alerts');
  const alerts = (await v.call('/v1/vaults/prod/alerts')).json().alerts;
  assert.deepEqual(
    alerts.map((a: { kind: string; severity: string; server: string }) => [a.kind, a.severity, a.server]),
    [['certificate-expiry', 'warning', 'web-1']],
  );
});

test('the user, token and vault jobs/alerts/webhook commands, with no secret in any log', async (t) => {
  const v = await startTestVault(t);
  const dir = await tempDir(t, 'offsite-ops-cli-');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`);
  const cli = (...args: string[]) => runCli([...args, '--json'], v.env);

  const user = await cli('user', 'create', 'carol', '--role', 'operator', '--password-file', passwordFile);
  assert.equal(user.code, 0, user.stderr);
  assert.equal(lastJson(user).role, 'operator');
  const login = await v.call('/v1/login', { token: '', ...post({ name: 'carol', password: PASSWORD }) });
  assert.equal(login.status, 200, 'the password file minus its newline is the password');
  assert.deepEqual(
    lastJson(await cli('user', 'list')).users.map((u: { name: string }) => u.name),
    ['carol'],
  );
  const set = await cli('user', 'set', 'carol', '--role', 'reader');
  assert.deepEqual([set.code, lastJson(set).role, lastJson(set).revokedTokens], [0, 'reader', 1]);

  await runCli(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const text = await runCli(
    ['token', 'create', 'ci', '--role', 'reader', '--vault', 'prod', '--expires-days', '7'],
    v.env,
  );
  assert.equal(text.code, 0, text.stderr);
  const secret = text.stdout.trim();
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/, 'stdout is the token alone');
  assert.match(text.stderr, /not shown again/);
  const tokens = lastJson(await cli('token', 'list')).tokens;
  const ci = tokens.find((x: { name: string }) => x.name === 'ci');
  assert.deepEqual([ci.vault, ci.role], ['prod', 'reader']);
  const scoped = await runCli(['vault', 'list', '--json'], { ...v.env, OFFSITE_TOKEN: secret });
  assert.deepEqual(
    lastJson(scoped).vaults.map((x: { name: string }) => x.name),
    ['prod'],
  );
  assert.equal((await cli('token', 'revoke', ci.id)).code, 0);
  const refused = await runCli(['vault', 'list'], { ...v.env, OFFSITE_TOKEN: secret });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /unknown, revoked or expired/);

  const web = await registerTestAgent(v, 'prod', 'web-1');
  const jobId = await startJob(web);
  await web.call(
    `/v1/agent/jobs/${jobId}`,
    patch({ status: 'failed', error: 'no space', skippedFiles: [{ path: '/a', error: 'EIO' }] }),
  );
  const jobs = await runCli(['vault', 'jobs', 'prod', '--server', 'web-1'], v.env);
  assert.equal(jobs.code, 0, jobs.stderr);
  assert.match(jobs.stdout, new RegExp(`${jobId}\\s+backup\\s+failed\\s+web-1`));
  const job = await runCli(['vault', 'job', 'prod', jobId], v.env);
  assert.match(job.stdout, /error: +no space/);
  assert.match(job.stdout, /\/a: EIO/);

  const secretFile = join(dir, 'secret');
  await writeFile(secretFile, `${SECRET}\n`);
  const hookAdd = await cli(
    'vault',
    'webhook-add',
    'prod',
    '--url',
    'http://127.0.0.1:9/x',
    '--secret-file',
    secretFile,
  );
  assert.equal(lastJson(hookAdd).signed, true, hookAdd.stderr);
  const hooks = await runCli(['vault', 'webhooks', 'prod'], v.env);
  assert.match(hooks.stdout, /http:\/\/127\.0\.0\.1:9\/x/);
  assert.equal((await cli('vault', 'webhook-delete', 'prod', lastJson(hookAdd).id)).code, 0);

  const alerts = lastJson(await cli('vault', 'alerts', 'prod')).alerts;
  assert.deepEqual(
    alerts.map((a: { kind: string }) => a.kind),
    ['backup-failed'],
  );
  const ack = await cli('vault', 'alerts', 'prod', '--ack', alerts[0].id);
  assert.equal(lastJson(ack).state, 'acknowledged');
  const table = await runCli(['vault', 'alerts', 'prod', '--all'], v.env);
  assert.match(table.stdout, /critical\s+acknowledged\s+backup-failed\s+web-1/);

  for (const r of [user, set, text, hookAdd, ack]) assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD));
  assertNoSecrets(v.logs, [PASSWORD, SECRET, secret, v.token]);
});

// The audit log end to end, over the real server and its SQLite catalog: each kind of
// change through the API leaves exactly one entry with its actor and before/after, refused
// attempts are recorded as refused, no entry holds a secret, an entry edited in the
// database makes `offsite audit verify` fail naming it, and pruning keeps the chain valid.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createSelfSignedClientCertificate } from '../src/pki/index.ts';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const DAY = 86_400_000;
const PASSWORD = 'a long enough password 1';
const WEBHOOK_SECRET = 'webhook-secret-for-audit-0123456789';

const send = (method: string, value?: unknown) => ({
  method,
  ...(value === undefined ? {} : { body: JSON.stringify(value) }),
});

async function ok(v: TestVault, path: string, options: ReturnType<typeof send> & { token?: string }) {
  const r = await v.call(path, options);
  assert.ok(r.status < 300, `${options.method} ${path}: ${r.status} ${r.text}`);
  return r.json();
}

// biome-ignore lint/suspicious/noExplicitAny: audit entries as the API answers them
type Entry = any;

async function entries(v: TestVault, query = ''): Promise<Entry[]> {
  const r = await v.call(`/v1/audit?limit=5000${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json().entries;
}

function only(all: Entry[], action: string, outcome = 'succeeded', target?: string): Entry {
  const found = all.filter(
    (e) => e.action === action && e.outcome === outcome && (target === undefined || e.target === target),
  );
  assert.equal(found.length, 1, `one ${outcome} ${action} entry, got ${JSON.stringify(found)}`);
  return found[0];
}

test('each kind of change leaves one entry with its actor, before and after, and no secret', async (t) => {
  const v = await startTestVault(t, { regions: ['local', 'far'] });
  const secrets = [v.token, PASSWORD, WEBHOOK_SECRET];
  await ok(v, '/v1/vaults', send('POST', { name: 'prod', region: 'local' }));
  await ok(v, '/v1/vaults', send('POST', { name: 'scratch', region: 'local' }));
  const policy = { schedule: { times: ['02:00'], timeZone: 'UTC' }, retention: { daily: 7 } };
  await ok(v, '/v1/vaults/prod/policy', send('PUT', policy));
  await ok(v, '/v1/vaults/prod', send('PATCH', { secondaryRegion: 'far' }));
  await ok(v, '/v1/vaults/prod/lock', send('POST'));
  const credentials = await ok(v, '/v1/vaults/prod/credentials', send('POST'));
  assert.equal(typeof credentials.secret, 'string');
  secrets.push(credentials.secret);
  const upload = createSelfSignedClientCertificate({ commonName: 'uploaded' });
  secrets.push(upload.keyPem.split('\n')[1]!);
  const cert = await ok(v, '/v1/vaults/prod/certificates', send('POST', { certificate: upload.certPem }));
  await ok(v, `/v1/vaults/prod/certificates/${cert.id}/revoke`, send('POST'));
  const hook = await ok(
    v,
    '/v1/vaults/prod/webhooks',
    send('POST', { url: 'https://hooks.example.com/path/with-secret-part', secret: WEBHOOK_SECRET }),
  );
  await ok(v, `/v1/vaults/prod/webhooks/${hook.id}`, send('DELETE'));
  await ok(v, '/v1/users', send('POST', { name: 'alice', password: PASSWORD, role: 'owner' }));
  const session = await ok(v, '/v1/login', {
    token: '',
    ...send('POST', { name: 'alice', password: PASSWORD }),
  });
  secrets.push(session.token);
  // Alice acts with her session: her name is in the entries she causes.
  const made = await ok(v, '/v1/tokens', {
    token: session.token,
    ...send('POST', { name: 'ci', role: 'reader' }),
  });
  secrets.push(made.token);
  await ok(v, `/v1/tokens/${made.id}`, { token: session.token, ...send('DELETE') });
  await ok(v, '/v1/users/alice', send('PATCH', { role: 'contributor' }));
  await ok(v, '/v1/vaults/scratch', send('DELETE'));
  await ok(v, '/v1/sites', send('POST', { name: 'dc1', vault: 'prod' }));
  const siteCredentials = await ok(v, '/v1/sites/dc1/credentials', send('POST'));
  assert.equal(typeof siteCredentials.secret, 'string');
  secrets.push(siteCredentials.secret);
  await ok(v, '/v1/sites/dc1', send('DELETE'));

  const all = await entries(v);
  const admin = { kind: 'token', tokenName: 'admin' };
  const expect = (action: string, target?: string) => {
    const e = only(all, action, 'succeeded', target);
    assert.ok(e.address === '127.0.0.1' || e.address === '::ffff:127.0.0.1', e.address);
    assert.match(e.hash, /^[0-9a-f]{64}$/);
    return e;
  };
  const created = expect('vault.create', 'vault:prod');
  expect('vault.create', 'vault:scratch');
  assert.deepEqual([created.actor.kind, created.actor.tokenName], [admin.kind, admin.tokenName]);
  assert.equal(created.before, null);
  assert.equal(created.after.name, 'prod');
  assert.equal(created.target, 'vault:prod');
  const policySet = expect('vault.policy');
  assert.equal(policySet.before.policy, null);
  assert.equal(policySet.after.policy.retention.daily, 7);
  const updated = expect('vault.update');
  assert.deepEqual([updated.before.secondaryRegion, updated.after.secondaryRegion], [null, 'far']);
  const locked = expect('vault.lock');
  assert.deepEqual([locked.before.immutable, locked.after.immutable], [false, true]);
  assert.equal(expect('credentials.issue').vault, 'prod');
  assert.equal(expect('certificate.upload').after.id, cert.id);
  assert.equal(expect('certificate.revoke').target, `certificate:${cert.id}`);
  const hookMade = expect('webhook.create');
  assert.equal(hookMade.after.url, 'https://hooks.example.com', 'a webhook URL keeps its origin only');
  const hookGone = expect('webhook.delete');
  assert.deepEqual([hookGone.before.deletedAt, typeof hookGone.after.deletedAt], [null, 'number']);
  assert.equal(expect('user.create').after.role, 'owner');
  const login = expect('session.login');
  assert.deepEqual(login.actor, { kind: 'anonymous', name: 'alice' });
  const tokenMade = expect('token.create');
  assert.deepEqual([tokenMade.actor.user, tokenMade.after.name], ['alice', 'ci']);
  const revoked = expect('token.revoke');
  assert.equal(revoked.actor.user, 'alice');
  assert.deepEqual([revoked.before.revokedAt, typeof revoked.after.revokedAt], [null, 'number']);
  const demoted = expect('user.update');
  assert.deepEqual([demoted.before.role, demoted.after.role], ['owner', 'contributor']);
  const deleted = expect('vault.delete');
  assert.deepEqual([deleted.before.deletedAt, typeof deleted.after.deletedAt], [null, 'number']);
  assert.equal(expect('site.create').vault, 'prod');
  expect('site.credentials-issue');
  assert.equal(expect('site.delete').before.name, 'dc1');
  assert.equal(all.length, 19, 'one entry per change, nothing else');

  const exported = await runCli(['audit', 'export'], v.env);
  assert.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout.trim().split('\n');
  assert.equal(lines.length, all.length);
  const raw = new DatabaseSync(v.server.files.catalog, { readOnly: true });
  const stored = JSON.stringify(raw.prepare('SELECT * FROM audit_log').all());
  raw.close();
  for (const secret of secrets) {
    assert.ok(secret.length >= 12, 'a real secret to look for');
    assert.ok(!exported.stdout.includes(secret), 'no secret in the export');
    assert.ok(!stored.includes(secret), 'no secret in the catalog rows');
  }
  const prodOnly = lastJson(await runCli(['audit', 'list', '--vault', 'prod', '--json'], v.env));
  assert.ok(prodOnly.entries.length >= 10);
  assert.ok(prodOnly.entries.every((e: Entry) => e.vault === 'prod'));
  const text = await runCli(['audit', 'list'], v.env);
  assert.match(text.stdout, /alice via token/);
});

test('refused attempts are recorded as refused, with who tried', async (t) => {
  const v = await startTestVault(t);
  const reader = await ok(v, '/v1/tokens', send('POST', { name: 'viewer', role: 'reader' }));
  const denied = await v.call('/v1/vaults', {
    token: reader.token,
    ...send('POST', { name: 'x', region: 'local' }),
  });
  assert.equal(denied.status, 403);
  const anonymous = await v.call('/v1/vaults/x', { token: '', ...send('DELETE') });
  assert.equal(anonymous.status, 401);
  const bad = await v.call('/v1/users', send('POST', { name: 'bob', password: 'short', role: 'reader' }));
  assert.equal(bad.status, 400);
  const wrong = await v.call('/v1/login', {
    token: '',
    ...send('POST', { name: 'bob', password: PASSWORD }),
  });
  assert.equal(wrong.status, 401);
  const all = await entries(v);
  const forbidden = only(all, 'vault.create', 'refused');
  assert.equal(forbidden.errorCode, 'FORBIDDEN');
  assert.deepEqual([forbidden.actor.tokenName, forbidden.actor.role], ['viewer', 'reader']);
  const unknown = only(all, 'vault.delete', 'refused');
  assert.equal(unknown.errorCode, 'UNAUTHORIZED');
  assert.deepEqual(unknown.actor, { kind: 'anonymous' });
  assert.equal(unknown.target, 'vault:x');
  assert.equal(only(all, 'user.create', 'refused').errorCode, bad.json().error);
  const login = only(all, 'session.login', 'refused');
  assert.deepEqual([login.actor.name, login.errorCode], ['bob', wrong.json().error]);
  // Reads are not changes: the audit reads above left no entry.
  assert.equal(all.filter((e: Entry) => e.action.startsWith('GET')).length, 0);
  const forReader = await v.call('/v1/audit', { token: reader.token });
  assert.equal(forReader.status, 403, 'owners only');
});

test('an entry edited in the database fails verify, naming it; pruning keeps the chain valid', async (t) => {
  const v = await startTestVault(t);
  for (const name of ['one', 'two', 'three', 'four']) {
    await ok(v, '/v1/vaults', send('POST', { name, region: 'local' }));
  }
  const green = await runCli(['audit', 'verify'], v.env);
  assert.equal(green.code, 0, green.stderr);
  assert.match(green.stdout, /verified: 4 entries/);

  // Entries a year and more old are pruned; the newer ones still verify from the anchor.
  v.clock.advance(401 * DAY);
  await ok(v, '/v1/vaults', send('POST', { name: 'five', region: 'local' }));
  await v.server.background.runNow('audit-prune');
  const kept = await entries(v);
  assert.deepEqual(
    kept.map((e: Entry) => e.target),
    ['vault:five'],
  );
  await ok(v, '/v1/vaults', send('POST', { name: 'six', region: 'local' }));
  const afterPrune = lastJson(await runCli(['audit', 'verify', '--json'], v.env));
  assert.deepEqual([afterPrune.ok, afterPrune.checked, afterPrune.anchorSeq], [true, 2, 5]);

  const raw = new DatabaseSync(v.server.files.catalog);
  raw.prepare("UPDATE audit_log SET target = 'vault:innocent' WHERE seq = 6").run();
  raw.close();
  const broken = await runCli(['audit', 'verify'], v.env);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /audit entry 6 is broken/);
  assert.match(broken.stderr, /AUDIT_CHAIN_BROKEN|changed/);

  const viaApi = await https(v.server.caPem, `${v.server.url}/v1/audit/verify`, { token: v.token });
  assert.deepEqual(viaApi.json().broken.seq, 6);
});

test('registration, undelete, acknowledging an alert and rebuilding the catalog are recorded too', async (t) => {
  const v = await startTestVault(t);
  await ok(v, '/v1/vaults', send('POST', { name: 'prod', region: 'local' }));
  const file = await ok(v, '/v1/vaults/prod/credentials', send('POST'));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await ok(v, '/v1/register', {
    token: '',
    ...send('POST', { secret: file.secret, publicKey: publicKeyPem, name: 'web1' }),
  });
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  let pointId: string;
  let alertId: string;
  try {
    const vault = await catalog.getVaultByName('prod');
    const [server] = await catalog.listServers(vault.id);
    const now = v.clock.now();
    const point = await catalog.commitPoint({
      serverId: server!.id,
      snapshotName: 'a'.repeat(64),
      time: now,
      stats: {},
      packSeqs: [],
      committedAt: now,
    });
    const snapshots = join(v.dir, 'regions', 'local', vault.id, 'servers', server!.id, 'repo', 'snapshots');
    await mkdir(snapshots, { recursive: true });
    await writeFile(join(snapshots, point.snapshotName), 'sealed snapshot');
    await catalog.softDeletePoint(point.id, now);
    pointId = point.id;
    const { alert } = await catalog.raiseAlert({
      vaultId: vault.id,
      serverId: null,
      kind: 'backup-failed',
      severity: 'critical',
      message: 'test',
      dedupeKey: 'test',
      raisedAt: now,
    });
    alertId = alert.id;
  } finally {
    await catalog.close();
  }
  await ok(v, `/v1/vaults/prod/points/${pointId}/undelete`, send('POST'));
  await ok(v, `/v1/vaults/prod/alerts/${alertId}/acknowledge`, send('POST'));
  await ok(v, '/v1/admin/rebuild-catalog', send('POST'));

  const all = await entries(v);
  const registered = only(all, 'server.register');
  assert.deepEqual(
    [registered.actor, registered.target, registered.vault],
    [{ kind: 'anonymous', name: 'web1' }, 'server:web1', 'prod'],
  );
  assert.equal(registered.after.server.name, 'web1');
  const undeleted = only(all, 'point.undelete');
  assert.deepEqual([typeof undeleted.before.softDeletedAt, undeleted.after.softDeletedAt], ['number', null]);
  const acknowledged = only(all, 'alert.acknowledge');
  assert.deepEqual(
    [acknowledged.before.acknowledgedAt, typeof acknowledged.after.acknowledgedAt],
    [null, 'number'],
  );
  assert.equal(only(all, 'catalog.rebuild').target, 'catalog');
  const stored = JSON.stringify(all);
  assert.ok(!stored.includes(file.secret), 'the credentials secret is in no entry');
  assert.ok(!stored.includes('BEGIN'), 'no PEM (key or certificate) is in any entry');
});

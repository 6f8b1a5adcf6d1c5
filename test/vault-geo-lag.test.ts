// The replication-lag alert: a vault whose secondary region lacks data older than the
// threshold (default 1 h; `offsite server --replication-lag-alert`) gets one warning, a
// persisting lag raises nothing new, and the alert is resolved once replication has
// caught up. Real server, real file regions, the injected clock moved forward.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { checkReplicationLag, DEFAULT_REPLICATION_LAG_ALERT_MS } from '../src/vault/geo/index.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { registerTestAgent, startTestVault, type TestAgent, type TestVault } from './helpers/vault.ts';

const MINUTE = 60_000;

async function putPack(agent: TestAgent): Promise<string> {
  const bytes = randomBytes(4096);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const answer = await agent.call(`/v1/agent/repo/objects/data/${sha.slice(0, 2)}/${sha}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': bytes.length,
      'x-offsite-sha256': sha,
    },
    body: bytes,
  });
  assert.equal(answer.status, 201, answer.text);
  return sha;
}

interface Alert {
  kind: string;
  state: string;
  severity: string;
  message: string;
  occurrences: number;
}

async function lagAlerts(v: TestVault): Promise<Alert[]> {
  const answer = await v.call('/v1/vaults/prod/alerts?all=1');
  assert.equal(answer.status, 200, answer.text);
  return (answer.json().alerts as Alert[]).filter((a) => a.kind === 'replication-lag');
}

async function setUp(t: Parameters<typeof startTestVault>[0]) {
  const v = await startTestVault(t, { regions: ['north', 'west'] });
  const created = await runCli(
    ['vault', 'create', 'prod', '--region', 'north', '--secondary-region', 'west', '--json'],
    v.env,
  );
  assert.equal(created.code, 0, created.stderr);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  return { v, agent, vaultId: lastJson(created).id as string };
}

test('a secondary more than the threshold behind raises one alert, resolved when it catches up', async (t) => {
  const { v, agent } = await setUp(t);
  assert.equal(DEFAULT_REPLICATION_LAG_ALERT_MS, 60 * MINUTE);
  await putPack(agent);
  await v.server.background.runNow('replication-lag');
  assert.deepEqual(await lagAlerts(v), [], 'a fresh pack is not late');

  v.clock.advance(59 * MINUTE);
  await v.server.background.runNow('replication-lag');
  assert.deepEqual(await lagAlerts(v), [], 'within the threshold');

  v.clock.advance(2 * MINUTE);
  await v.server.background.runNow('replication-lag');
  const [raised, ...more] = await lagAlerts(v);
  assert.deepEqual(more, []);
  assert.equal(raised?.state, 'open');
  assert.equal(raised?.severity, 'warning');
  assert.match(
    raised!.message,
    /vault prod: the secondary region "west" is 61 min behind \(more than 60 min\)/,
  );
  assert.match(raised!.message, /1 objects, 4096 bytes not copied yet/);

  // Still behind: no new raise (webhooks are told about changes, not about persisting).
  v.clock.advance(30 * MINUTE);
  await v.server.background.runNow('replication-lag');
  const still = await lagAlerts(v);
  assert.equal(still.length, 1);
  assert.equal(still[0]!.occurrences, 1);

  await v.server.background.runNow('replication');
  await v.server.background.runNow('replication-lag');
  const [resolved] = await lagAlerts(v);
  assert.equal(resolved?.state, 'resolved', 'replication caught up');
  const shown = await runCli(['vault', 'show', 'prod', '--json'], v.env);
  assert.equal(lastJson(shown).replication.pendingObjects, 0);
});

test('a replication that cannot reach the secondary keeps the alert open, naming the problem', async (t) => {
  const { v, agent } = await setUp(t);
  await putPack(agent);
  // The secondary's folder is replaced by a file: every write and listing there fails.
  await rm(join(v.dir, 'regions', 'west'), { recursive: true, force: true });
  await writeFile(join(v.dir, 'regions', 'west'), 'not a folder');
  v.clock.advance(2 * 60 * MINUTE);
  await v.server.background.runNow('replication');
  await v.server.background.runNow('replication-lag');
  const [open] = await lagAlerts(v);
  assert.equal(open?.state, 'open');
  assert.match(open!.message, /is 2 h 0 min behind/);
  assert.match(open!.message, /last problem: /);
});

test('the threshold is a setting: the same lag is late for 10 minutes, not for 1 hour', async (t) => {
  const { v, agent, vaultId } = await setUp(t);
  await putPack(agent);
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  t.after(() => catalog.close());
  const vault = await catalog.getVault(vaultId);
  const later = v.clock.now() + 15 * MINUTE;
  await checkReplicationLag(catalog, vault, later, 60 * MINUTE);
  assert.deepEqual(await lagAlerts(v), []);
  await checkReplicationLag(catalog, vault, later, 10 * MINUTE);
  const [raised] = await lagAlerts(v);
  assert.match(raised!.message, /15 min behind \(more than 10 min\)/);
});

test('a vault without a secondary region never raises it, and clearing the secondary resolves it', async (t) => {
  const { v, agent } = await setUp(t);
  await putPack(agent);
  v.clock.advance(3 * 60 * MINUTE);
  await v.server.background.runNow('replication-lag');
  assert.equal((await lagAlerts(v))[0]?.state, 'open');
  const cleared = await runCli(['vault', 'set', 'prod', '--no-secondary-region'], v.env);
  assert.equal(cleared.code, 0, cleared.stderr);
  await v.server.background.runNow('replication-lag');
  assert.equal((await lagAlerts(v))[0]?.state, 'resolved');
});

// Automatic failover with real site agents (src/dr/agent, in this process) replicating
// over mutual TLS on loopback: the replica's witness report comes from its real probes of
// the primary's replication listener. Cutting only the server's view of the primary (a
// relay between the primary's agent and the server goes down) withholds the failover
// with an alert; killing the primary's agent (its listener gone too) fails the plan over,
// once. The server's clock and the agents' peer-watch clock are one injected test clock.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSiteAgentState, registerSiteAgent, runSiteAgent } from '../src/dr/agent/index.ts';
import type { SiteAgentState } from '../src/dr/agent/state.ts';
import { tempDir } from './helpers/cli.ts';
import { TcpRelay } from './helpers/tcp-relay.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const AUTO = 'dr-auto-failover';

// biome-ignore lint/suspicious/noExplicitAny: answers under test
type Json = any;

async function ok(v: TestVault, path: string, body?: unknown, method = 'POST'): Promise<Json> {
  const r = await v.call(path, body === undefined ? { method } : { method, body: JSON.stringify(body) });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json();
}

async function get(v: TestVault, path: string): Promise<Json> {
  const r = await v.call(path);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

/**
 * Runs the decision task until `check` holds (the agents work in real time meanwhile).
 * Generous: on a loaded machine (the whole suite, two files at once) heartbeats and
 * probes every 100 ms can lag by seconds.
 */
async function until<R>(v: TestVault, what: string, check: () => Promise<R | undefined>): Promise<R> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    await v.server.background.runNow(AUTO);
    const found = await check();
    if (found !== undefined) return found;
    await sleep(100);
  }
  assert.fail(`never: ${what}`);
}

async function register(v: TestVault, work: string, site: string): Promise<SiteAgentState> {
  await ok(v, '/v1/sites', { name: site, vault: 'dr' });
  const credentials = await v.call(`/v1/sites/${site}/credentials`, { method: 'POST' });
  assert.equal(credentials.status, 201, credentials.text);
  const file = join(work, `${site}-credentials.json`);
  await writeFile(file, credentials.text, { mode: 0o600 });
  const dir = join(work, `agent-${site}`);
  await registerSiteAgent({ dir, credentialsFile: file, now: v.clock.now() });
  return (await loadSiteAgentState(dir))!;
}

function start(t: { after: (fn: () => Promise<void>) => void }, v: TestVault, state: SiteAgentState) {
  const stop = new AbortController();
  const running = runSiteAgent({
    state,
    signal: stop.signal,
    heartbeatMs: 100,
    pollMs: 200,
    log: () => {},
    replicationListen: { host: '127.0.0.1', port: 0 },
    replicationHealth: async () => [],
    peerClock: v.clock.now,
  });
  const kill = async () => {
    stop.abort();
    await running;
  };
  t.after(kill);
  return kill;
}

test('real site agents: the server cut off from the primary withholds; the primary killed fails over once', async (t) => {
  const v = await startTestVault(t);
  const work = await tempDir(t, 'offsite-dr-auto-');
  await ok(v, '/v1/vaults', { name: 'dr', region: 'local' });
  const dc1 = await register(v, work, 'dc1');
  const dc2 = await register(v, work, 'dc2');
  await mkdir(join(work, 'data'), { recursive: true });
  await writeFile(join(work, 'data', 'rows'), 'one row\n');
  const workload = {
    name: 'app',
    dataPaths: [join(work, 'data')],
    start: 'sleep 600',
    stop: 'true',
    health: { type: 'tcp', host: '127.0.0.1', port: 1 },
    primarySite: 'dc1',
    replicaSite: 'dc2',
    replication: { frequency: '15m' },
  };
  await ok(v, '/v1/dr/workloads', { workloads: [workload] }, 'PUT');
  const autoFailover = { enabled: true, afterSilence: '1m', witnesses: ['replica'] };
  await ok(
    v,
    '/v1/dr/plans',
    { plans: [{ name: 'shop', groups: [{ name: 'all', workloads: ['app'] }], autoFailover }] },
    'PUT',
  );

  // dc1 reaches the server through a relay the test can cut; dc2 directly.
  const relay = new TcpRelay(v.server.port);
  const relayPort = await relay.listen();
  t.after(() => relay.close());
  dc1.info.server = `https://127.0.0.1:${relayPort}`;
  const killDc1 = start(t, v, dc1);
  start(t, v, dc2);
  const alerts = async () =>
    ((await get(v, '/v1/vaults/dr/alerts')).alerts as Json[]).filter(
      (a) => a.kind === 'auto-failover-withheld',
    );
  const runs = async () => (await get(v, '/v1/dr/plans/shop')).runs as Json[];
  // Both agents up and reporting (the primary's address is known to the replica).
  await until(v, 'dr status shows both sites heard', async () => {
    const status = await get(v, '/v1/dr/status');
    const heard = (status.sites as Json[]).filter((s) => s.lastHeartbeatAt !== null).length;
    return heard === 2 ? true : undefined;
  });
  await sleep(500); // a few probe rounds of the replica

  // Only the server's view of dc1 is cut: the replica still hears it.
  relay.cutAfter(0);
  v.clock.advance(70_000);
  // The clock jumped: let the replica probe and report on the new clock before deciding.
  await sleep(1000);
  const [withheld] = await until(v, 'the withheld alert', async () => {
    const open = await alerts();
    return open.length > 0 ? open : undefined;
  });
  assert.match(withheld.message, /the witness replica \(dc2\) still hears site "dc1"/);
  assert.deepEqual(await runs(), []);

  // The relay heals: dc1 is heard again, the alert resolved.
  relay.heal();
  await until(v, 'the alert resolved', async () => ((await alerts()).length === 0 ? true : undefined));

  // The primary's agent dies (its replication listener with it): the plan fails over, once.
  await killDc1();
  v.clock.advance(70_000);
  await sleep(1000);
  const [run] = await until(v, 'a run', async () => {
    const list = await runs();
    return list.length > 0 ? list : undefined;
  });
  assert.deepEqual([run.type, run.startedBy], ['unplanned', 'automatic failover']);
  for (let i = 0; i < 5; i++) await v.server.background.runNow(AUTO);
  assert.equal((await runs()).length, 1);
  const entries = ((await get(v, '/v1/audit?limit=5000')).entries as Json[]).filter(
    (e) => e.action === 'dr.auto-failover',
  );
  assert.deepEqual(
    entries.map((e) => [e.outcome, e.errorCode, e.after.evidence.witnesses[0].verdict]),
    [
      ['refused', 'WITNESS_HEARS_SITE', 'hears'],
      ['succeeded', null, 'agrees'],
    ],
  );
});

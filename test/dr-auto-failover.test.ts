// Opt-in automatic failover through the real server (injected clock, the dr-auto-failover
// and dr-plan-runs tasks run with background runNow) and played site agents: real HTTPS
// clients with real site-agent certificates, whose heartbeats carry the witness report
// (`inventory.peers`, as src/dr/agent/peer-watch.ts sends it) the test decides. The
// primary lost by everyone fails the plan over once; lost by the server alone, it raises
// an alert and an audit entry instead; a plan without the option never fails over; a new
// outage after the site came back may fail over again, and a plan already failed over
// (not reprotected) is withheld.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteCatalog } from '../src/vault/catalog/index.ts';
import { watchTargets } from '../src/vault/dr/auto/index.ts';
import { type PlayedSite, playSite } from './helpers/dr-site-player.ts';
import type { RawOptions } from './helpers/https.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const SECOND = 1000;
const AUTO = 'dr-auto-failover';
const post = (body?: unknown): RawOptions => ({
  method: 'POST',
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

// biome-ignore lint/suspicious/noExplicitAny: answers under test
type Json = any;

async function ok(
  r: Promise<{ status: number; text: string; json: () => unknown }>,
  status = 200,
): Promise<Json> {
  const answer = await r;
  assert.equal(answer.status, status, answer.text);
  return answer.json();
}

interface World {
  dc1: PlayedSite;
  dc2: PlayedSite;
  dc3: PlayedSite;
}

const DB = {
  name: 'db',
  dataPaths: ['/srv/db'],
  start: './start-db',
  stop: './stop-db',
  health: { type: 'tcp', host: '127.0.0.1', port: 5432 },
  primarySite: 'dc1',
  replicaSite: 'dc2',
  replication: { frequency: '30s' },
};

function shop(autoFailover?: unknown) {
  return {
    name: 'shop',
    groups: [{ name: 'all', workloads: ['db'] }],
    ...(autoFailover ? { autoFailover } : {}),
  };
}

async function world(v: TestVault, plan: unknown): Promise<World> {
  await ok(v.call('/v1/vaults', post({ name: 'dr', region: 'local' })), 201);
  for (const name of ['dc1', 'dc2', 'dc3']) await ok(v.call('/v1/sites', post({ name, vault: 'dr' })), 201);
  const server = () => ({ url: v.server.url, caPem: v.server.caPem });
  const [dc1, dc2, dc3] = await Promise.all(
    ['dc1', 'dc2', 'dc3'].map((n) => playSite(v.call, server, n, v.clock.now)),
  );
  await ok(v.call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify({ workloads: [DB] }) }));
  await ok(v.call('/v1/dr/plans', { method: 'PUT', body: JSON.stringify({ plans: [plan] }) }));
  const w = { dc1: dc1!, dc2: dc2!, dc3: dc3! };
  for (const site of Object.values(w)) await beat(v, site);
  return w;
}

/** When the server last got a heartbeat from each site (its clock). */
const lastBeat = new WeakMap<PlayedSite, number>();

/** A heartbeat whose witness report says how long ago the site last heard each peer. */
async function beat(v: TestVault, site: PlayedSite, peers: Record<string, number> = {}): Promise<Json> {
  lastBeat.set(site, v.clock.now());
  const inventory = {
    host: site.name,
    replicationAddress: `127.0.0.1:${7000 + Number(site.name.slice(2))}`,
    peers: Object.entries(peers).map(([peer, silentMs]) => ({
      site: peer,
      address: '127.0.0.1:1',
      silentMs,
    })),
  };
  return ok(site.call('/v1/site-agent/heartbeat', post({ inventory, replication: [] })));
}

async function runs(v: TestVault): Promise<Json[]> {
  return (await ok(v.call('/v1/dr/plans/shop'))).runs;
}

async function decisions(v: TestVault): Promise<Json[]> {
  const all = (await ok(v.call('/v1/audit?limit=5000'))).entries as Json[];
  return all.filter((e) => e.action === 'dr.auto-failover');
}

async function alerts(v: TestVault, kind: string, all = false): Promise<Json[]> {
  const list = (await ok(v.call(`/v1/vaults/dr/alerts${all ? '?all=1' : ''}`))).alerts as Json[];
  return list.filter((a) => a.kind === kind);
}

/** The server's clock moves on while dc1 is silent to it; dc2 (and dc3) report what they hear of dc1, every 10 s. */
async function silence(v: TestVault, w: World, ms: number, heard: { dc2: boolean; dc3?: boolean }) {
  const since = lastBeat.get(w.dc1)!;
  for (let passed = 0; passed < ms; ) {
    const step = Math.min(10 * SECOND, ms - passed);
    v.clock.advance(step);
    passed += step;
    const silentMs = v.clock.now() - since;
    await beat(v, w.dc2, { dc1: heard.dc2 ? 500 : silentMs });
    if (heard.dc3 !== undefined) await beat(v, w.dc3, { dc1: heard.dc3 ? 500 : silentMs });
    await v.server.background.runNow(AUTO);
  }
}

async function driveToEnd(v: TestVault, sites: PlayedSite[], id: string): Promise<Json> {
  for (let i = 0; i < 30; i++) {
    await v.server.background.runNow('dr-plan-runs');
    for (const site of sites) await site.poll();
    await v.server.background.runNow('dr-plan-runs');
    const run = await ok(v.call(`/v1/dr/runs/${id}`));
    if (run.state !== 'running') return run;
  }
  assert.fail('the run never ended');
}

const ON = { enabled: true, afterSilence: '1m', witnesses: ['replica'] };

test('the primary silent to the server and to the replica: one unplanned failover, however often the task runs', async (t) => {
  const v = await startTestVault(t);
  const w = await world(v, shop(ON));
  w.dc1.up = false;
  await silence(v, w, 50 * SECOND, { dc2: false });
  assert.deepEqual(await runs(v), [], 'not before afterSilence');
  await silence(v, w, 20 * SECOND, { dc2: false });
  const [run, ...more] = await runs(v);
  assert.equal(more.length, 0);
  assert.deepEqual(
    [run.type, run.point, run.startedBy, run.failback],
    ['unplanned', 'latest', 'automatic failover', false],
  );

  // The task keeps running while the site stays dead and the run goes on and ends: still one.
  await silence(v, w, 30 * SECOND, { dc2: false });
  const done = await driveToEnd(v, [w.dc2], run.id);
  assert.equal(done.state, 'succeeded', done.error);
  assert.deepEqual(w.dc2.kinds(), ['materialise', 'start', 'probe']);
  await silence(v, w, 2 * 60 * SECOND, { dc2: false });
  assert.equal((await runs(v)).length, 1);

  const [entry, ...others] = await decisions(v);
  assert.equal(others.length, 0, JSON.stringify(others));
  assert.deepEqual(entry.actor, { kind: 'system', task: AUTO });
  assert.deepEqual([entry.outcome, entry.target, entry.vault], ['succeeded', 'plan:shop', 'dr']);
  assert.equal(entry.after.decision, 'started');
  assert.equal(entry.after.runId, run.id);
  const evidence = entry.after.evidence;
  assert.equal(evidence.site, 'dc1');
  assert.ok(evidence.silentToServerMs > 60 * SECOND, String(evidence.silentToServerMs));
  assert.deepEqual(
    evidence.witnesses.map((x: Json) => [x.witness, x.site, x.verdict]),
    [['replica', 'dc2', 'agrees']],
  );
  assert.ok(
    Date.parse(evidence.witnesses[0].lastHeardSite) <= Date.parse(evidence.siteLastHeardByServer) + SECOND,
  );
  const [started] = await alerts(v, 'auto-failover-started');
  assert.match(started.message, new RegExp(`plan "shop" is failing over automatically \\(run ${run.id}\\)`));
});

test('the server alone lost the primary (the replica still hears it): no failover, an alert and an audit entry say why', async (t) => {
  const v = await startTestVault(t);
  const w = await world(v, shop(ON));
  await silence(v, w, 3 * 60 * SECOND, { dc2: true });
  assert.deepEqual(await runs(v), []);
  const [alert, ...more] = await alerts(v, 'auto-failover-withheld');
  assert.equal(more.length, 0);
  assert.equal(alert.severity, 'critical');
  assert.match(
    alert.message,
    /withheld: the witness replica \(dc2\) still hears site "dc1": only the server lost it/,
  );
  const [entry, ...again] = await decisions(v);
  assert.equal(again.length, 0, 'one entry for one decision, not one per pass');
  assert.deepEqual(
    [entry.outcome, entry.errorCode, entry.actor.kind],
    ['refused', 'WITNESS_HEARS_SITE', 'system'],
  );
  assert.deepEqual([entry.after.decision, entry.after.witness], ['withheld', 'replica']);
  assert.equal(entry.after.evidence.witnesses[0].verdict, 'hears');

  // The primary reaches the server again: the alert is resolved.
  await beat(v, w.dc1);
  await v.server.background.runNow(AUTO);
  assert.deepEqual(await alerts(v, 'auto-failover-withheld'), []);
  assert.equal((await alerts(v, 'auto-failover-withheld', true))[0].state, 'resolved');
});

test('a required third witness that still hears the primary holds the failover back', async (t) => {
  const v = await startTestVault(t);
  const w = await world(v, shop({ ...ON, witnesses: ['replica', 'site:dc3'] }));
  // The third witness is told what to probe: the active site's replication address.
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    assert.deepEqual(await watchTargets(catalog, await catalog.getSiteByName('dc3')), [
      { site: 'dc1', address: '127.0.0.1:7001' },
    ]);
    assert.deepEqual(await watchTargets(catalog, await catalog.getSiteByName('dc2')), []);
  } finally {
    await catalog.close();
  }
  await silence(v, w, 90 * SECOND, { dc2: false, dc3: true });
  assert.deepEqual(await runs(v), []);
  const [entry] = await decisions(v);
  assert.deepEqual([entry.errorCode, entry.after.witness], ['WITNESS_HEARS_SITE', 'site:dc3']);
  // Once the third witness loses it too, the plan fails over.
  await silence(v, w, 70 * SECOND, { dc2: false, dc3: false });
  assert.deepEqual(
    (await runs(v)).map((r: Json) => r.type),
    ['unplanned'],
  );
});

test('a plan without autoFailover never fails over by itself', async (t) => {
  const v = await startTestVault(t);
  const w = await world(v, shop());
  await silence(v, w, 5 * 60 * SECOND, { dc2: false });
  assert.deepEqual(await runs(v), []);
  assert.deepEqual(await decisions(v), []);
  assert.deepEqual(await alerts(v, 'auto-failover-withheld'), []);
});

test('a second outage after the site came back fails over; once failed over (not reprotected) it is withheld', async (t) => {
  const v = await startTestVault(t);
  const w = await world(v, shop(ON));
  // Outage 1: only the server's view is cut; withheld.
  await silence(v, w, 90 * SECOND, { dc2: true });
  assert.deepEqual(await runs(v), []);
  // dc1 comes back, then dies for real: outage 2 is new, and fails the plan over.
  await beat(v, w.dc1);
  await v.server.background.runNow(AUTO);
  w.dc1.up = false;
  await silence(v, w, 70 * SECOND, { dc2: false });
  const [run] = await runs(v);
  assert.equal(run.type, 'unplanned');
  assert.equal((await driveToEnd(v, [w.dc2], run.id)).state, 'succeeded');

  // dc1 returns and goes silent again: it holds nothing now, nothing to do.
  w.dc1.up = true;
  await beat(v, w.dc1);
  await silence(v, w, 2 * 60 * SECOND, { dc2: false });
  assert.equal((await runs(v)).length, 1);

  // dc2 (active, with no replica until a reprotect) goes silent: withheld, not failed back.
  v.clock.advance(90 * SECOND);
  await beat(v, w.dc1, { dc2: 90 * SECOND });
  await v.server.background.runNow(AUTO);
  assert.equal((await runs(v)).length, 1);
  const last = (await decisions(v)).at(-1);
  assert.deepEqual([last.errorCode, last.after.evidence.site], ['NOT_PROTECTED', 'dc2']);
  assert.deepEqual(
    (await decisions(v)).map((e: Json) => e.errorCode ?? e.after.decision),
    ['WITNESS_HEARS_SITE', 'started', 'NOT_PROTECTED'],
  );
});

// End to end: replication of a workload from the primary site agent to the replica site
// agent over mutual TLS on loopback, through a real TCP relay, with real files, the real
// repository engine and real hooks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  APP_CONSISTENT,
  applyReplicaRetention,
  CRASH_CONSISTENT,
  listPoints,
  materialise,
  openReplica,
  replicaStatus,
  workloadBasePath,
} from '../src/dr/replication/index.ts';
import { replicaAgent } from '../src/dr/replication/tls.ts';
import { isOffsiteError } from '../src/errors/index.ts';
import { checkRepository, snapshotPacks } from '../src/repo/index.ts';
import { HttpBlobStore } from '../src/storage/index.ts';
import { makeData, makeReplicator, PRIMARY, REPLICA, startSites } from './helpers/dr-fixture.ts';
import { makeCa, siteAgentTls } from './helpers/dr-sites.ts';
import { TcpRelay } from './helpers/tcp-relay.ts';
import { compareTrees } from './helpers/tree-compare.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SAME = {};

async function overwrite(path: string, offset: number, bytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  await handle.write(Buffer.alloc(bytes, 0x5a), 0, bytes, offset);
  await handle.close();
}

/** Pack objects in the replica's folder for a workload, by name, with sizes. */
async function replicaPacks(root: string, workload: string): Promise<Map<string, number>> {
  const packs = new Map<string, number>();
  const data = join(root, workload, 'repo', 'data');
  for (const dir of await readdir(data).catch(() => [])) {
    for (const name of await readdir(join(data, dir)))
      packs.set(`${dir}/${name}`, (await stat(join(data, dir, name))).size);
  }
  return packs;
}

test('several cycles: the second sends only the changes; latest and a time materialise byte for byte', async (t) => {
  const sites = await startSites(t, [{ id: 'shop', primary: PRIMARY }]);
  const data = await makeData(sites.dir);
  const relay = new TcpRelay(sites.port);
  const relayPort = await relay.listen();
  t.after(() => relay.close());
  const replicator = makeReplicator(t, sites, {
    source: { workload: 'shop', paths: [data] },
    replica: { url: `https://127.0.0.1:${relayPort}`, name: REPLICA },
  });

  const first = await replicator.replicate();
  const upFirst = relay.bytesUp;
  assert.ok(first.point.bytesSent >= 6 * 512 * KiB, `first cycle sent ${first.point.bytesSent}`);
  assert.equal(first.point.consistency, CRASH_CONSISTENT);
  const atFirst = join(sites.dir, 'expected-first');
  execFileSync('cp', ['-a', data, atFirst]); // keeps symlink times too, to the nanosecond

  await overwrite(join(data, 'table-2.bin'), 200 * KiB, 64 * KiB);
  await writeFile(join(data, 'new.txt'), 'a new row\n');
  await rm(join(data, 'table-5.bin'));
  const second = await replicator.replicate();
  const upSecond = relay.bytesUp - upFirst;
  assert.equal(second.filesChanged, 1);
  assert.equal(second.filesNew, 1);
  assert.ok(second.point.bytesSent < 600 * KiB, `second cycle sent ${second.point.bytesSent}`);
  assert.ok(second.point.bytesSent * 4 < first.point.bytesSent);
  assert.ok(upSecond * 3 < upFirst, `on the wire: ${upSecond} after ${upFirst}`);

  const third = await replicator.replicate();
  // Nothing changed: no file is read or sent. (The folders above the data path keep their
  // own metadata in the point, so a changed /tmp may still cost a small tree pack.)
  assert.equal(third.filesChanged + third.filesNew, 0);
  assert.ok(third.point.bytesSent < 16 * KiB, `third cycle sent ${third.point.bytesSent}`);

  const latest = await materialise({
    root: sites.replicaRoot,
    workload: 'shop',
    point: 'latest',
    target: join(sites.dir, 'test-failover'),
  });
  assert.equal(latest.point.id, third.point.id);
  assert.deepEqual(latest.paths, [{ source: data, at: join(sites.dir, 'test-failover', data) }]);
  assert.deepEqual(await compareTrees(data, join(sites.dir, 'test-failover', data), SAME), []);

  const target = join(sites.dir, 'at-first');
  const byTime = await materialise({
    root: sites.replicaRoot,
    workload: 'shop',
    point: new Date(first.point.time),
    target,
  });
  assert.equal(byTime.point.id, first.point.id);
  assert.deepEqual(await compareTrees(atFirst, join(target, data), SAME), []);

  // Into a folder that holds an older copy (the real failover in place): what the point
  // lacks is removed, and the folder is exactly the point.
  const again = await materialise({ root: sites.replicaRoot, workload: 'shop', point: 'latest', target });
  assert.deepEqual(again.removed, [join(target, data, 'table-5.bin')]);
  assert.deepEqual(await compareTrees(data, join(target, data), SAME), []);

  // A test failover materialises while replication goes on.
  const frozenCopy = join(sites.dir, 'expected-third');
  execFileSync('cp', ['-a', data, frozenCopy]);
  await writeFile(join(data, 'during.txt'), 'written during the test failover\n');
  const isolated = join(sites.dir, 'isolated');
  const [fourth, copy] = await Promise.all([
    replicator.replicate(),
    materialise({ root: sites.replicaRoot, workload: 'shop', point: third.point.id, target: isolated }),
  ]);
  assert.equal(copy.point.id, third.point.id);
  assert.deepEqual(await compareTrees(frozenCopy, join(isolated, data), SAME), []);

  const replica = await replicaStatus(sites.replicaRoot, 'shop', Date.parse(fourth.point.time) + 45_000);
  assert.equal(replica.points, 4);
  assert.equal(replica.latest?.id, fourth.point.id);
  assert.equal(replica.latestConsistent, null);
  assert.equal(replica.lagSeconds, 45);
  assert.equal(
    sites.server.received('shop').bytes,
    first.point.bytesSent + second.point.bytesSent + third.point.bytesSent + fourth.point.bytesSent,
  );
});

test('a connection cut mid-cycle fails the cycle; the next one resumes without resending packs', async (t) => {
  const sites = await startSites(t, [{ id: 'ledger', primary: PRIMARY }]);
  const data = await makeData(sites.dir, 8);
  const relay = new TcpRelay(sites.port);
  const relayPort = await relay.listen();
  t.after(() => relay.close());
  const replicator = makeReplicator(t, sites, {
    source: { workload: 'ledger', paths: [data] },
    replica: { url: `https://127.0.0.1:${relayPort}`, name: REPLICA },
  });

  relay.cutAfter(1.5 * MiB);
  await assert.rejects(replicator.replicate(), (err) => isOffsiteError(err) && err.kind === 'transient');
  assert.equal(relay.cuts, 1);
  const before = await replicaPacks(sites.replicaRoot, 'ledger');
  assert.ok(before.size >= 2, `packs stored before the cut: ${before.size}`);
  const failed = await replicator.state();
  assert.equal(failed.lastPoint, null);
  assert.ok(failed.lastError);

  relay.heal();
  const resumed = await replicator.replicate();
  const after = await replicaPacks(sites.replicaRoot, 'ledger');
  for (const [name, size] of before) assert.equal(after.get(name), size, `${name} kept`);
  assert.equal(resumed.packsSent, after.size - before.size);
  // The packs sent before the cut hold data of the resumed point: reused, not sent again.
  const repo = await openReplica(sites.replicaRoot, 'ledger');
  await repo.loadIndex();
  const [latest] = (await listPoints(repo)).slice(-1);
  const needed = new Set(await snapshotPacks(repo, Buffer.from(latest!.snapshot.tree, 'hex')));
  const dataPacksBefore = [...before.keys()].map((name) => name.slice(3));
  assert.ok(
    dataPacksBefore.every((id) => needed.has(id)),
    'the point uses every pack sent before the cut',
  );
  const sizeBefore = [...before.values()].reduce((a, b) => a + b, 0);
  assert.ok(
    resumed.point.bytesSent < 8 * 512 * KiB - sizeBefore + 64 * KiB,
    `resumed cycle sent ${resumed.point.bytesSent}`,
  );
  assert.equal((await replicator.state()).lastError, null);

  const target = join(sites.dir, 'failover');
  await materialise({ root: sites.replicaRoot, workload: 'ledger', point: 'latest', target });
  assert.deepEqual(await compareTrees(data, join(target, data), SAME), []);
});

test('wrong peers are refused: another CA, another site, another replica, a swapped key; the sender cannot delete', async (t) => {
  const sites = await startSites(t, [{ id: 'shop', primary: PRIMARY }]);
  const data = await makeData(sites.dir, 1, 64 * KiB);
  const source = { workload: 'shop', paths: [data] };
  const nothingStored = async () => assert.equal((await replicaPacks(sites.replicaRoot, 'shop')).size, 0);

  const intruderCa = makeCa('Intruder CA');
  const foreign = makeReplicator(t, sites, {
    source,
    tls: siteAgentTls(intruderCa, PRIMARY, sites.ca),
    stateDir: join(sites.dir, 'foreign'),
  });
  await assert.rejects(foreign.replicate());
  await nothingStored();

  const otherSite = makeReplicator(t, sites, {
    source,
    tls: siteAgentTls(sites.ca, 'site-agent-berlin'),
    stateDir: join(sites.dir, 'berlin'),
  });
  await assert.rejects(otherSite.replicate(), { code: 'FORBIDDEN' });
  await nothingStored();

  const wrongReplica = makeReplicator(t, sites, {
    source,
    replica: { url: `https://127.0.0.1:${sites.port}`, name: 'site-agent-berlin' },
    stateDir: join(sites.dir, 'wrong-replica'),
  });
  await assert.rejects(wrongReplica.replicate(), { code: 'REPLICA_NOT_TRUSTED' });
  assert.equal((await wrongReplica.state()).lastError?.code, 'REPLICA_NOT_TRUSTED');
  await nothingStored();

  const good = makeReplicator(t, sites, { source });
  const point = (await good.replicate()).point;
  const swapped = makeReplicator(t, sites, {
    source,
    key: 'another key, also 32 characters!',
    stateDir: join(sites.dir, 'swapped'),
  });
  await assert.rejects(swapped.replicate(), { code: 'KEY_MISMATCH' });

  // The primary's own certificate may add objects, never remove or plant control files.
  const store = new HttpBlobStore({
    url: `https://127.0.0.1:${sites.port}${workloadBasePath('shop')}`,
    caPem: sites.ca.certPem,
    certPem: sites.primaryTls.certPem,
    keyPem: sites.primaryTls.keyPem,
    agent: replicaAgent(sites.primaryTls, REPLICA),
    directUpload: false,
  });
  t.after(() => store.close());
  await assert.rejects(store.delete(`snapshots/${point.id}`), { code: 'FORBIDDEN' });
  const [pack] = await replicaPacks(sites.replicaRoot, 'shop');
  await assert.rejects(store.delete(`data/${pack![0]}`), { code: 'FORBIDDEN' });
  await assert.rejects(store.put('locks/prune', Buffer.from('x')), { code: 'NAME_NOT_REPLICABLE' });
  await assert.rejects(store.put(`gc/${'0'.repeat(64)}`, Buffer.from('x')), { code: 'NAME_NOT_REPLICABLE' });
  await assert.rejects(store.put(`index/${'0'.repeat(64)}`, Buffer.from('x')), { code: 'NAME_NOT_HASH' });
  assert.ok(await store.head(`snapshots/${point.id}`));
  const size = (await store.head('config'))!.size;
  await assert.rejects(store.get('config', { offset: size - 1, length: 2 }), { code: 'BAD_RANGE' });
  assert.equal((await store.get('config', { offset: 1, length: 2 })).length, 2);
  const unknown = new HttpBlobStore({
    url: `https://127.0.0.1:${sites.port}${workloadBasePath('payroll')}`,
    caPem: sites.ca.certPem,
    certPem: sites.primaryTls.certPem,
    keyPem: sites.primaryTls.keyPem,
    agent: replicaAgent(sites.primaryTls, REPLICA),
    directUpload: false,
  });
  t.after(() => unknown.close());
  await assert.rejects(unknown.put('config', Buffer.from('x')), { code: 'WORKLOAD_NOT_REPLICATED' });
  assert.equal(
    (
      await materialise({
        root: sites.replicaRoot,
        workload: 'shop',
        point: 'latest',
        target: join(sites.dir, 'out'),
      })
    ).point.id,
    point.id,
  );
});

test('an application-consistent point runs freeze, the snapshot, then thaw; thaw runs after a failed or hung freeze', async (t) => {
  const sites = await startSites(t, [{ id: 'pg', primary: PRIMARY }]);
  const data = await makeData(sites.dir, 2, 64 * KiB);
  const log = join(sites.dir, 'hooks.log');
  const flag = join(data, 'FROZEN');
  const events: string[] = [];
  const hooks = {
    freeze: `echo freeze >> '${log}' && echo frozen > '${flag}'`,
    thaw: `echo thaw >> '${log}' && rm -f '${flag}'`,
  };
  const replicator = makeReplicator(t, sites, {
    source: { workload: 'pg', paths: [data], ...hooks },
    onHookEvent: (e) => events.push(e),
  });

  const crash = await replicator.replicate(CRASH_CONSISTENT);
  assert.equal(crash.point.consistency, CRASH_CONSISTENT);
  assert.equal(events.length, 0, 'no hooks for a crash-consistent point');

  const app = await replicator.replicate(APP_CONSISTENT);
  assert.equal(app.point.consistency, APP_CONSISTENT);
  assert.deepEqual(app.hookErrors, []);
  assert.deepEqual(events, ['freeze:start', 'freeze:ok', 'thaw:start', 'thaw:ok']);
  assert.equal(await readFile(log, 'utf8'), 'freeze\nthaw\n');
  // The point holds what the freeze wrote and the thaw removed: it was taken in between.
  const target = join(sites.dir, 'consistent');
  const got = await materialise({
    root: sites.replicaRoot,
    workload: 'pg',
    point: 'latest-consistent',
    target,
  });
  assert.equal(got.point.id, app.point.id);
  assert.equal(await readFile(join(target, flag), 'utf8'), 'frozen\n');
  await assert.rejects(stat(flag), { code: 'ENOENT' });
  assert.equal((await replicator.state()).lastAppConsistent?.id, app.point.id);

  await writeFile(log, '');
  events.length = 0;
  const failing = makeReplicator(t, sites, {
    source: { workload: 'pg', paths: [data], freeze: `echo freeze >> '${log}'; exit 3`, thaw: hooks.thaw },
    stateDir: join(sites.dir, 'failing'),
    onHookEvent: (e) => events.push(e),
  });
  const fallback = await failing.replicate(APP_CONSISTENT);
  assert.equal(
    fallback.point.consistency,
    CRASH_CONSISTENT,
    'a failed freeze still gives a crash-consistent point',
  );
  assert.equal(fallback.hookErrors[0]?.code, 'FREEZE_HOOK_FAILED');
  assert.deepEqual(events, ['freeze:start', 'freeze:failed', 'thaw:start', 'thaw:ok']);
  assert.equal(await readFile(log, 'utf8'), 'freeze\nthaw\n');

  await writeFile(log, '');
  const hung = makeReplicator(t, sites, {
    source: { workload: 'pg', paths: [data], freeze: 'sleep 30', thaw: hooks.thaw, hookTimeoutMs: 300 },
    stateDir: join(sites.dir, 'hung'),
  });
  const timedOut = await hung.replicate(APP_CONSISTENT);
  assert.equal(timedOut.hookErrors[0]?.code, 'FREEZE_HOOK_TIMEOUT');
  assert.equal(timedOut.point.consistency, CRASH_CONSISTENT);
  assert.equal(await readFile(log, 'utf8'), 'thaw\n');
});

test('retention on the replica keeps the latest, the hourly points and the app-consistent one, and frees the rest', async (t) => {
  const sites = await startSites(t, [{ id: 'shop', primary: PRIMARY }]);
  const data = await makeData(sites.dir, 2, 256 * KiB);
  let now = Date.parse('2026-11-22T08:10:00Z');
  const clock = { now: () => now };
  const replicator = makeReplicator(t, sites, { source: { workload: 'shop', paths: [data] }, clock });
  const times: Record<string, string> = {};
  const plan: [string, typeof APP_CONSISTENT | typeof CRASH_CONSISTENT][] = [
    ['08:10', APP_CONSISTENT],
    ['08:40', CRASH_CONSISTENT],
    ['09:10', CRASH_CONSISTENT],
    ['09:40', APP_CONSISTENT],
    ['10:10', CRASH_CONSISTENT],
    ['10:40', CRASH_CONSISTENT],
    ['11:10', CRASH_CONSISTENT],
  ];
  for (const [at, consistency] of plan) {
    now = Date.parse(`2026-11-22T${at}:00Z`);
    await overwrite(join(data, 'table-0.bin'), 0, 64 * KiB + Number(at.replace(':', '')));
    times[at] = (await replicator.replicate(consistency)).point.id;
  }
  const before = [...(await replicaPacks(sites.replicaRoot, 'shop')).values()].reduce((a, b) => a + b, 0);

  const run = await applyReplicaRetention(
    sites.replicaRoot,
    'shop',
    { hourly: 2, appConsistent: 1 },
    { graceMs: 0, clock },
  );
  assert.deepEqual(
    run.kept.map((k) => [k.id, k.reasons]),
    [
      [times['11:10'], ['latest']],
      [times['10:40'], ['hourly']],
      [times['09:40'], ['hourly', APP_CONSISTENT]],
    ],
  );
  assert.deepEqual(
    run.removed.map((r) => r.id).sort(),
    [times['08:10'], times['08:40'], times['09:10'], times['10:10']].sort(),
  );
  // Data only the expired points used is condemned now and deleted by a run after the
  // grace period and the clock-skew allowance (design.md §11).
  now += 10 * 60_000;
  const later = await applyReplicaRetention(
    sites.replicaRoot,
    'shop',
    { hourly: 2, appConsistent: 1 },
    { graceMs: 0, clock },
  );
  assert.deepEqual(later.removed, []);
  assert.ok(run.deletedBytes + later.deletedBytes > 0);
  const after = [...(await replicaPacks(sites.replicaRoot, 'shop')).values()].reduce((a, b) => a + b, 0);
  assert.ok(after < before, `stored ${after} after ${before}`);

  const repo = await openReplica(sites.replicaRoot, 'shop');
  assert.deepEqual(
    (await listPoints(repo)).map((p) => p.id),
    [times['09:40'], times['10:40'], times['11:10']],
  );
  assert.deepEqual((await checkRepository(repo, { readData: true })).problems, []);
  const consistent = await materialise({
    root: sites.replicaRoot,
    workload: 'shop',
    point: 'latest-consistent',
    target: join(sites.dir, 'c'),
  });
  assert.equal(consistent.point.id, times['09:40']);
  // The sender goes on after the replica pruned: its next cycle still works.
  now = Date.parse('2026-11-22T11:40:00Z');
  await overwrite(join(data, 'table-1.bin'), 0, 1000);
  const next = await replicator.replicate();
  await materialise({
    root: sites.replicaRoot,
    workload: 'shop',
    point: next.point.id,
    target: join(sites.dir, 'n'),
  });
  assert.deepEqual(await compareTrees(data, join(sites.dir, 'n', data)), []);
});

test('a replica site that lost its folder is paired and filled again by the next cycle', async (t) => {
  const sites = await startSites(t, [{ id: 'shop', primary: PRIMARY }]);
  const data = await makeData(sites.dir, 2, 128 * KiB);
  const replicator = makeReplicator(t, sites, { source: { workload: 'shop', paths: [data] } });
  await replicator.replicate();
  await rm(join(sites.replicaRoot, 'shop'), { recursive: true });
  const refilled = await replicator.replicate();
  assert.ok(refilled.point.bytesSent >= 2 * 128 * KiB, 'everything is sent again');
  const target = join(sites.dir, 'out');
  await materialise({ root: sites.replicaRoot, workload: 'shop', point: 'latest', target });
  assert.deepEqual(await compareTrees(data, join(target, data)), []);
});

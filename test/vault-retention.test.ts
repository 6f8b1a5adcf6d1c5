// Vault-side retention, soft delete, garbage collection and usage over a real server on
// loopback, real files and real SQLite, with an injected clock. Points are set up the way
// a commit leaves them (catalog rows, the snapshot and pack objects, the point record),
// without the commit route, so each rule is tested on its own.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanVaultMarkers } from '../src/repo/gc-markers.ts';
import { hashToken, newToken } from '../src/server/index.ts';
import { type BlobStore, FileStore } from '../src/storage/index.ts';
import { type PackRow, type PointRow, SqliteCatalog, type VaultRow } from '../src/vault/catalog/index.ts';
import { pointRecordName, pointSoftDeleteName, repoStore } from '../src/vault/layout.ts';
import { savePointRecord } from '../src/vault/records.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import {
  registerTestAgent,
  startTestVault,
  type TestAgent,
  type TestVault,
  testClock,
} from './helpers/vault.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 5 January 2026, 00:00 UTC. */
const T0 = Date.UTC(2026, 0, 5);

type T = Parameters<typeof startTestVault>[0];

interface World {
  v: TestVault;
  catalog: SqliteCatalog;
  regionDir: string;
  region: FileStore;
  vault: VaultRow;
  serverId: string;
  repo: BlobStore;
  agent: TestAgent;
}

async function world(t: T): Promise<World> {
  const clock = testClock();
  clock.set(T0);
  const v = await startTestVault(t, { clock });
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  t.after(() => catalog.close());
  const regionDir = join(v.dir, 'regions', 'local');
  const region = new FileStore(regionDir);
  const repo = repoStore(region, agent.vault.id, agent.server.id);
  return { v, catalog, regionDir, region, vault: agent.vault, serverId: agent.server.id, repo, agent };
}

/** A pack object of random bytes, named by its SHA-256 as packs are, and its catalog row. */
async function upload(w: World, size = 20_000, createdAt = w.v.clock.now()): Promise<PackRow> {
  const bytes = randomBytes(size);
  const name = createHash('sha256').update(bytes).digest('hex');
  await w.repo.put(`data/${name.slice(0, 2)}/${name}`, bytes);
  return w.catalog.recordPack({ serverId: w.serverId, name, size, createdAt });
}

/** What a commit leaves: the snapshot object, the point in the catalog, its record. */
async function commit(w: World, packs: PackRow[], time = w.v.clock.now()): Promise<PointRow> {
  const snapshot = randomBytes(300);
  const snapshotName = createHash('sha256').update(snapshot).digest('hex');
  await w.repo.put(`snapshots/${snapshotName}`, snapshot);
  const point = await w.catalog.commitPoint({
    serverId: w.serverId,
    snapshotName,
    time,
    stats: {
      bytesProcessed: 1_000_000,
      bytesAddedRaw: 60_000,
      bytesAddedStored: 40_000,
      hostname: 'web1',
      paths: ['/srv'],
      tags: [],
    },
    packSeqs: packs.map((p) => p.seq),
    committedAt: w.v.clock.now(),
  });
  await savePointRecord(
    w.region,
    point,
    packs.map((p) => p.name),
  );
  return point;
}

async function exists(w: World, name: string): Promise<boolean> {
  return (await w.region.head(name)) !== null;
}

async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function setPolicy(w: World, retention: object, token?: string) {
  const body = JSON.stringify({ schedule: { times: ['02:00'], timeZone: 'UTC' }, retention });
  return w.v.call('/v1/vaults/prod/policy', { method: 'PUT', body, ...(token ? { token } : {}) });
}

async function tokenWithRole(w: World, role: 'reader' | 'contributor'): Promise<string> {
  const token = newToken();
  const row = {
    tokenHash: hashToken(token),
    name: role,
    role,
    vaultId: null,
    createdAt: T0,
    expiresAt: null,
  };
  await w.catalog.createToken(row);
  return token;
}

test('policy: every bad field is named; roles; an immutable vault refuses a reduction', async (t) => {
  const w = await world(t);
  const bad = await w.v.call('/v1/vaults/prod/policy', {
    method: 'PUT',
    body: JSON.stringify({
      schedule: { times: ['24:00'], days: ['mon', 'funday'], timeZone: 'Nowhere/Land' },
      retention: { daily: -2, weekly: 1.5 },
    }),
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error, 'BAD_POLICY');
  for (const field of [
    'schedule.times[0]',
    'schedule.days[1]',
    'schedule.timeZone',
    'retention.daily',
    'retention.weekly',
  ]) {
    assert.ok(bad.json().message.includes(field), field);
  }
  assert.equal((await w.v.call('/v1/vaults/prod/policy')).json().policy, null, 'nothing was stored');

  assert.equal((await setPolicy(w, { daily: 7 }, await tokenWithRole(w, 'reader'))).status, 403);
  const contributor = await tokenWithRole(w, 'contributor');
  assert.equal((await setPolicy(w, { daily: 7, weekly: 4 }, contributor)).status, 200);
  const lockedByContributor = await w.v.call('/v1/vaults/prod/lock', { method: 'POST', token: contributor });
  assert.equal(lockedByContributor.status, 403, 'only an owner locks a vault');

  w.v.clock.advance(1000);
  const cli = await runCli(['vault', 'lock', 'prod'], w.v.env);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /vault prod is immutable/);
  const refused = await setPolicy(w, { daily: 3, weekly: 4 });
  assert.equal(refused.status, 409);
  assert.equal(refused.json().error, 'RETENTION_REDUCTION');
  assert.match(refused.json().message, /retention\.daily 7 → 3/);
  w.v.clock.advance(1000);
  assert.equal((await setPolicy(w, { daily: 30, weekly: 4, yearly: 2 })).status, 200, 'more is fine');
  const record = JSON.parse(await lastVaultRecord(w));
  assert.equal(record.vault.immutable, true, 'the lock is in storage too');
  assert.equal(record.vault.policy.retention.daily, 30);
});

async function lastVaultRecord(w: World): Promise<string> {
  const dir = join(w.regionDir, w.vault.id, 'vault');
  const names = (await readdir(dir)).sort();
  return readFile(join(dir, names.at(-1)!), 'utf8');
}

test('policy through the CLI: set with weekdays and a time zone, show, refusal named', async (t) => {
  const w = await world(t);
  const set = await runCli(
    [
      'vault',
      'policy',
      'set',
      'prod',
      '--times',
      '14:00,02:00',
      '--days',
      'mon-fri',
      '--time-zone',
      'Europe/Berlin',
    ].concat(['--daily', '7', '--weekly', '4', '--monthly', '12', '--yearly', '3']),
    w.v.env,
  );
  assert.equal(set.code, 0, set.stderr);
  const show = await runCli(['vault', 'policy', 'show', 'prod'], w.v.env);
  assert.match(show.stdout, /backups: +02:00, 14:00 Europe\/Berlin, mon, tue, wed, thu, fri/);
  assert.match(show.stdout, /retention: +daily 7, weekly 4, monthly 12, yearly 3/);
  const json = lastJson(await runCli(['vault', 'policy', 'show', 'prod', '--json'], w.v.env));
  assert.deepEqual(json.policy.schedule.days, ['mon', 'tue', 'wed', 'thu', 'fri']);
  await runCli(['vault', 'lock', 'prod'], w.v.env);
  const refused = await runCli(
    ['vault', 'policy', 'set', 'prod', '--times', '02:00', '--daily', '3'],
    w.v.env,
  );
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /retention\.daily 7 → 3/);
  assert.match(refused.stderr, /retention\.weekly 4 → 0/);
});

test('retention soft-deletes exactly the expired points, undelete brings one back, then they go for good', async (t) => {
  const w = await world(t);
  const shared = await upload(w);
  const points: PointRow[] = [];
  for (let day = 0; day < 6; day++) {
    w.v.clock.set(T0 + day * DAY + 2 * HOUR);
    points.push(await commit(w, [shared, await upload(w)]));
  }
  w.v.clock.set(T0 + 5 * DAY + 14 * HOUR);
  points.push(await commit(w, [shared, await upload(w)]));
  const [d0, d1, d2, d3, d4, d5early, d5late] = points.map((p) => p) as [
    PointRow,
    PointRow,
    PointRow,
    PointRow,
    PointRow,
    PointRow,
    PointRow,
  ];

  await w.v.server.background.runNow('retention');
  assert.equal(
    (await w.catalog.listPoints(w.serverId, { state: 'soft-deleted' })).length,
    0,
    'no policy: none',
  );

  assert.equal((await setPolicy(w, { daily: 3 })).status, 200);
  w.v.clock.set(T0 + 5 * DAY + 15 * HOUR);
  await w.v.server.background.runNow('retention');
  const softDeleted = (await w.catalog.listPoints(w.serverId, { state: 'soft-deleted' }))
    .map((p) => p.id)
    .sort();
  assert.deepEqual(softDeleted, [d0.id, d1.id, d2.id, d5early.id].sort());
  for (const id of softDeleted) {
    const record = JSON.parse(String(await w.region.get(pointSoftDeleteName(w.vault.id, w.serverId, id))));
    assert.equal(record.softDeletedAt, (await w.catalog.getPoint(id)).softDeletedAt);
  }
  const listed = lastJson(await runCli(['vault', 'points', 'prod', '--all', '--json'], w.v.env));
  assert.equal(listed.points.length, 7);
  assert.deepEqual(
    listed.points.filter((p: { state: string }) => p.state === 'active').map((p: { id: string }) => p.id),
    [d5late.id, d4.id, d3.id],
  );
  const table = await runCli(['vault', 'points', 'prod', '--all'], w.v.env);
  assert.match(table.stdout, new RegExp(`${d0.id} +web1 .*soft-deleted \\(gone after`));

  w.v.clock.advance(HOUR);
  const back = await runCli(['vault', 'undelete', 'prod', d1.id], w.v.env);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /is back: active/);
  assert.equal(await exists(w, pointSoftDeleteName(w.vault.id, w.serverId, d1.id)), false);
  await w.v.server.background.runNow('retention');
  assert.equal(
    (await w.catalog.getPoint(d1.id)).softDeletedAt,
    null,
    'an undeleted point is not expired again',
  );

  const due = (await w.catalog.getPoint(d0.id)).softDeletedAt! + 14 * DAY;
  w.v.clock.set(due - 60_000);
  await w.v.server.background.runNow('retention');
  assert.equal(
    await exists(w, `${w.vault.id}/servers/${w.serverId}/repo/snapshots/${d0.snapshotName}`),
    true,
  );
  w.v.clock.set(due);
  await w.v.server.background.runNow('retention');
  for (const gone of [d0, d2, d5early]) {
    assert.notEqual((await w.catalog.getPoint(gone.id)).deletedAt, null);
    assert.equal(await w.repo.head(`snapshots/${gone.snapshotName}`), null, 'its snapshot object is gone');
    assert.equal(await exists(w, pointRecordName(w.vault.id, w.serverId, gone.id)), false);
    assert.equal(await exists(w, pointSoftDeleteName(w.vault.id, w.serverId, gone.id)), false);
  }
  assert.ok(await w.repo.head(`snapshots/${d1.snapshotName}`), 'the undeleted one stays');
  const again = await w.v.call(`/v1/vaults/prod/points/${d0.id}/undelete`, { method: 'POST' });
  assert.equal(again.status, 409);
  assert.equal(again.json().error, 'POINT_DELETED');
});

test('garbage collection: condemn with a readable marker, delete only after grace, never what is needed', async (t) => {
  const w = await world(t);
  const [a, b, c] = [await upload(w), await upload(w), await upload(w)];
  const old = await upload(w, 20_000, T0 - 8 * DAY);
  const p1 = await commit(w, [a!, b!]);
  await commit(w, [b!, c!]);
  w.v.clock.advance(HOUR);
  const young = await upload(w); // a backup in progress: uploaded, not committed yet
  await w.catalog.softDeletePoint(p1.id, w.v.clock.now());
  await w.v.server.background.runNow('gc');
  const condemned = async () =>
    (await w.catalog.listPacks(w.serverId)).filter((p) => p.condemnedAt !== null).map((p) => p.name);
  assert.deepEqual(await condemned(), [old.name], 'only the old unreferenced one: soft-deleted p1 holds a');

  await w.catalog.markPointDeleted(p1.id, w.v.clock.now());
  await w.v.server.background.runNow('gc');
  assert.deepEqual(
    (await condemned()).sort(),
    [a!.name, old.name].sort(),
    'not b (still needed), not the young one',
  );
  const scan = await scanVaultMarkers(w.repo);
  assert.deepEqual(scan.damaged, []);
  assert.equal(scan.markers.length, 1);
  assert.deepEqual([...scan.markers[0]!.packs].sort(), [a!.name, old.name].sort());
  const bytes = await w.repo.get(`gc-vault/${scan.markers[0]!.id}`);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), scan.markers[0]!.id);
  assert.equal(JSON.parse(String(bytes)).version, 1);

  // A backup that started before the marker commits late and needs `old` again.
  const job = await w.catalog.createJob({
    vaultId: w.vault.id,
    serverId: w.serverId,
    kind: 'backup',
    startedAt: w.v.clock.now() - HOUR,
  });
  w.v.clock.advance(23 * HOUR);
  await w.v.server.background.runNow('gc');
  assert.ok(await w.repo.head(`data/${a!.name.slice(0, 2)}/${a!.name}`), 'within the grace period');
  await commit(w, [old, c!]);
  w.v.clock.advance(2 * HOUR);
  await w.v.server.background.runNow('gc');
  assert.deepEqual(await condemned(), [a!.name], 'old is needed again: uncondemned');
  assert.ok(
    await w.repo.head(`data/${a!.name.slice(0, 2)}/${a!.name}`),
    'a running older backup blocks deletion',
  );
  await w.catalog.updateJob(job.id, { status: 'succeeded', endedAt: w.v.clock.now() });
  await w.v.server.background.runNow('gc');
  assert.equal(await w.repo.head(`data/${a!.name.slice(0, 2)}/${a!.name}`), null, 'deleted after grace');
  assert.notEqual((await w.catalog.findPack(w.serverId, a!.name))!.deletedAt, null);
  for (const kept of [b!, c!, old, young]) {
    assert.ok(await w.repo.head(`data/${kept.name.slice(0, 2)}/${kept.name}`), kept.name);
  }
  const marker = (await scanVaultMarkers(w.repo)).markers;
  assert.deepEqual(
    marker.flatMap((m) => [...m.packs]),
    [a!.name],
    'a deleted pack stays listed: agent indexes still name it',
  );

  w.v.clock.advance(7 * DAY);
  await w.v.server.background.runNow('gc');
  assert.deepEqual(await condemned(), [young.name], 'a never-referenced pack is condemned once old');
});

test('usage: stored bytes are exactly the bytes on disk, through commits, retention and GC', async (t) => {
  const w = await world(t);
  assert.equal((await setPolicy(w, { daily: 2 })).status, 200);
  const vaultDir = join(w.regionDir, w.vault.id);
  const check = async (step: string) => {
    const u = (await w.v.call('/v1/vaults/prod/usage')).json();
    assert.equal(u.storedBytes, await bytesOnDisk(vaultDir), step);
    const b = u.breakdown;
    assert.equal(b.dataBytes + b.metadataBytes, u.storedBytes, step);
    const shares =
      b.latestBytes + b.olderPointsBytes + b.softDeletedBytes + b.garbageBytes + b.unreferencedBytes;
    assert.equal(shares, b.dataBytes, step);
    return u;
  };
  const shared = await upload(w, 50_000);
  for (let day = 0; day < 4; day++) {
    w.v.clock.set(T0 + day * DAY + 2 * HOUR);
    await commit(w, [shared, await upload(w, 10_000 + day)]);
    await check(`commit ${day}`);
  }
  await upload(w, 7_000); // uploaded, never committed
  await w.v.server.background.runNow('retention');
  const afterRetention = await check('retention');
  assert.equal(
    afterRetention.breakdown.softDeletedBytes,
    10_000 + 10_001,
    'packs only soft-deleted points hold',
  );
  assert.equal(afterRetention.breakdown.unreferencedBytes, 7_000);
  assert.equal(afterRetention.protectedBytes, 1_000_000);
  w.v.clock.advance(15 * DAY);
  await w.v.server.background.runNow('retention');
  await w.v.server.background.runNow('gc');
  const condemnedNow = await check('gc condemns');
  assert.equal(condemnedNow.breakdown.garbageBytes, 10_000 + 10_001 + 7_000);
  w.v.clock.advance(DAY);
  await w.v.server.background.runNow('gc');
  const collected = await check('gc deletes');
  assert.equal(collected.breakdown.garbageBytes, 0);
  assert.equal(collected.breakdown.latestBytes, 50_000 + 10_003);
  assert.equal(collected.breakdown.olderPointsBytes, 10_002);

  await w.v.server.background.runNow('usage');
  const history = (await w.v.call('/v1/vaults/prod/usage?days=7')).json().history;
  assert.equal(history.length, 1, "today's row of the vault");
  assert.equal(history[0].storedBytes, await bytesOnDisk(vaultDir));

  const text = await runCli(['vault', 'usage', 'prod'], w.v.env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /why your stored bytes differ from what you protect:/);
  assert.match(text.stdout, /is held only by older recovery points/);
  const json = lastJson(await runCli(['vault', 'usage', 'prod', '--server', 'web1', '--json'], w.v.env));
  assert.equal(json.servers.length, 1);
  assert.equal(json.servers[0].storedBytes + (await bytesOnDisk(join(vaultDir, 'vault'))), json.storedBytes);
  assert.equal(json.servers[0].points.length, 2);
  const perPoint = await runCli(['vault', 'usage', 'prod', '--server', 'web1'], w.v.env);
  assert.match(perPoint.stdout, /POINT +TIME +STATE +SIZE +ADDED +ONLY IN IT/);
});

test('the agent neither lists nor reads a soft-deleted point until it is undeleted', async (t) => {
  const w = await world(t);
  const old = await commit(w, [await upload(w)]);
  w.v.clock.advance(2 * DAY);
  const kept = await commit(w, [await upload(w)]);
  const listed = async (prefix: string) => {
    const page = (await w.agent.call(`/v1/agent/repo/objects?prefix=${prefix}`)).json();
    return page.objects
      .map((o: { name: string }) => o.name)
      .filter((n: string) => n.startsWith('snapshots/'));
  };
  const both = [`snapshots/${old.snapshotName}`, `snapshots/${kept.snapshotName}`].sort();
  assert.deepEqual((await listed('snapshots/')).sort(), both);

  await w.catalog.softDeletePoint(old.id, w.v.clock.now());
  assert.deepEqual(await listed('snapshots/'), [`snapshots/${kept.snapshotName}`]);
  assert.deepEqual(await listed(''), [`snapshots/${kept.snapshotName}`], 'the whole listing hides it too');
  const read = await w.agent.call(`/v1/agent/repo/objects/snapshots/${old.snapshotName}`);
  assert.deepEqual([read.status, read.json().error], [404, 'POINT_SOFT_DELETED']);
  assert.equal(
    await exists(w, `${w.vault.id}/servers/${w.serverId}/repo/snapshots/${old.snapshotName}`),
    true,
  );

  assert.equal((await runCli(['vault', 'undelete', 'prod', old.id], w.v.env)).code, 0);
  assert.deepEqual((await listed('snapshots/')).sort(), both);
  const again = await w.agent.call(`/v1/agent/repo/objects/snapshots/${old.snapshotName}`);
  assert.equal(again.status, 200);
});

// Disaster recovery end to end, test failover of a three-tier plan with the real pieces:
// the real vault server and its failover runner, two real site agents replicating over
// mutual TLS, a PostgreSQL database (Debian's package), an HTTP API on it and a front
// service calling the API (test/fixtures/dr), the plan applied and run with the real CLI.
// The isolated copy comes up at dc2 on shifted ports, healthy through all three tiers,
// while the primary keeps serving and replicating; `dr cleanup` leaves nothing.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { aliveAt, e2eTest, front, idsAt, stepsOf, TIERS, Writer } from './helpers/dr-e2e-world.ts';
import { eventually, type Json } from './helpers/dr-workload-sites.ts';

const OFFSET = 1500;

e2eTest(
  'test failover of a three-tier plan (PostgreSQL, API, front) at the replica site, then cleanup',
  async (t, world) => {
    world.startAgent('dc1');
    world.startAgent('dc2');
    await world.startPrimary();
    const writer = new Writer(world.ports.front, 100);
    await writer.more(10, world.logs);
    await writer.stop();
    const before = writer.acked.map((a) => a.id);
    // A base backup holding those rows (every 3 s), then a point of every tier.
    await new Promise((r) => setTimeout(r, 3500));
    const points: Record<string, string> = {};
    for (const tier of TIERS) {
      const c = await world.command('dc1', 'replicate-now', { workload: tier });
      assert.equal(c.state, 'succeeded', JSON.stringify(c.result));
      points[tier] = c.result.pointId;
    }

    const run = await world.failover('test', ['--port-offset', String(OFFSET)]);
    assert.equal(run.state, 'succeeded', `${stepsOf(run)}\n${world.logs()}`);
    t.diagnostic(`test failover: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s`);
    const order = run.steps.filter((s: Json) => s.kind === 'start').map((s: Json) => s.name);
    assert.deepEqual(order, ['start/db', 'start/api', 'start/front'], stepsOf(run));
    assert.ok(
      run.steps.every((s: Json) => s.site !== 'dc1'),
      'the primary site is left alone',
    );

    // The copy: front → API → database on the shifted ports, at dc2, with the replicated rows.
    const copyIds = await idsAt(world.ports.front + OFFSET);
    for (const id of before) assert.ok(copyIds.includes(id), `row ${id} is in the test copy`);
    const inserted = await front(world.ports.front + OFFSET, 'POST', '/rows');
    assert.equal(inserted?.status, 200, JSON.stringify(inserted));
    const dc2 = await aliveAt(world, 'dc2');
    assert.deepEqual(dc2.map((r: Json) => `${r.workload}/${r.mode}`).sort(), [
      'api/test',
      'db/test',
      'front/test',
    ]);
    assert.ok(dc2.some((r: Json) => r.pid === inserted.frontPid));

    // The primary keeps serving (its own rows, not the copy's) and replicating.
    const primary = await front(world.ports.front, 'POST', '/rows');
    assert.equal(primary?.status, 200);
    assert.notEqual(primary.frontPid, inserted.frontPid);
    await new Promise((r) => setTimeout(r, 3500));
    const again = await world.command('dc1', 'replicate-now', { workload: 'db' });
    assert.equal(again.state, 'succeeded', JSON.stringify(again.result));
    assert.notEqual(again.result.pointId, points.db, 'a new point while the test copy runs');

    const cleanup = await world.cliJson('dr', 'cleanup', run.id);
    assert.ok(cleanup);
    const cleaned = await world.waitRun(run.id, (r) => r.cleanup === 'succeeded' || r.cleanup === 'failed');
    assert.equal(cleaned.cleanup, 'succeeded', stepsOf(cleaned));
    assert.deepEqual(await aliveAt(world, 'dc2'), [], 'no process of the test copy');
    for (const port of [world.ports.db, world.ports.api, world.ports.front]) {
      assert.equal(await front(port + OFFSET, 'GET', '/health'), undefined, `port ${port + OFFSET} is free`);
    }
    const testsDir = join(world.dirs.dc2!, 'dr', 'tests');
    assert.deepEqual(await readdir(testsDir).catch(() => []), []);
    assert.deepEqual(await readdir(world.homes.dc2!), [], 'no live PostgreSQL folder of the copy');
    assert.ok(await stat(world.dataPaths.db), 'the primary data path is untouched');
    assert.equal((await front(world.ports.front, 'GET', '/health'))?.status, 200, 'the primary still serves');
    await eventually(
      'the replica reports the point taken during the test',
      async () => {
        const db = (await world.status()).workloads.find((w: Json) => w.name === 'db');
        return db.replication?.lastPointId === again.result.pointId ? true : undefined;
      },
      world.logs,
    );
  },
);

// Disaster recovery end to end, planned failover of the three-tier plan (PostgreSQL, API,
// front; test/fixtures/dr) with the real server, two real site agents and the real CLI:
// a writer inserts a row through the front service every 100 ms throughout; the failover
// stops the source, syncs its last changes and starts all three at dc2 with no row lost;
// then `dr commit`, `dr reprotect` (dc2 replicates to dc1) and `dr failback` to dc1, again
// with every acknowledged row kept.
import assert from 'node:assert/strict';
import { aliveAt, type E2eWorld, e2eTest, front, idsAt, stepsOf, Writer } from './helpers/dr-e2e-world.ts';
import type { Json } from './helpers/dr-workload-sites.ts';

/** Every acknowledged row is served; the front answering is the one `site` runs. */
async function nothingLost(world: E2eWorld, acked: number[], site: string): Promise<void> {
  const ids = new Set(await idsAt(world.ports.front));
  const lost = acked.filter((id) => !ids.has(id));
  assert.deepEqual(lost, [], `rows lost at ${site}`);
  const answer = await front(world.ports.front, 'GET', '/health');
  const alive = await aliveAt(world, site);
  assert.deepEqual(alive.map((r: Json) => `${r.workload}/${r.mode}`).sort(), [
    'api/real',
    'db/real',
    'front/real',
  ]);
  assert.ok(
    alive.some((r: Json) => r.pid === answer?.frontPid),
    `the front answering is ${site}'s`,
  );
}

e2eTest(
  'planned failover of a three-tier plan loses no row; commit, reprotect and failback to dc1',
  async (t, world) => {
    world.startAgent('dc1');
    world.startAgent('dc2');
    await world.startPrimary();
    const writer = new Writer(world.ports.front, 100);
    await writer.more(10, world.logs);

    const run = await world.failover('planned');
    assert.equal(run.state, 'succeeded', `${stepsOf(run)}\n${world.logs()}`);
    assert.equal(run.rpoSeconds, 0);
    t.diagnostic(`planned failover: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s`);
    const stops = run.steps.filter((s: Json) => s.kind === 'stop').map((s: Json) => s.name);
    assert.deepEqual(stops, ['stop/front', 'stop/api', 'stop/db'], stepsOf(run));
    await writer.more(5, world.logs); // now served by dc2
    await writer.stop();
    t.diagnostic(`planned failover: ${writer.acked.length} rows acknowledged, ${writer.failures} refused`);
    await nothingLost(
      world,
      writer.acked.map((a) => a.id),
      'dc2',
    );
    assert.deepEqual(await aliveAt(world, 'dc1'), []);

    await world.cliJson('dr', 'commit', run.id);
    await world.cliJson('dr', 'reprotect', 'shop');
    const status = await world.cliJson('dr', 'status');
    for (const w of status.workloads) {
      assert.deepEqual([w.name, w.primarySite, w.replicaSite, w.activeSite], [w.name, 'dc2', 'dc1', 'dc2']);
    }
    const writer2 = new Writer(world.ports.front, 100);
    await writer2.more(10, world.logs);
    const back = await world.cliJson('dr', 'failback', 'shop');
    const done = await world.waitRun(back.id);
    assert.equal(done.state, 'succeeded', `${stepsOf(done)}\n${world.logs()}`);
    assert.equal(done.failback, true);
    t.diagnostic(`failback: RTO ${done.rtoSeconds} s, RPO ${done.rpoSeconds} s`);
    await writer2.more(5, world.logs); // served by dc1 again
    await writer2.stop();
    await nothingLost(
      world,
      [...writer.acked, ...writer2.acked].map((a) => a.id),
      'dc1',
    );
    assert.deepEqual(await aliveAt(world, 'dc2'), []);
  },
);

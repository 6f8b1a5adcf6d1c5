// Disaster recovery end to end, unplanned failover of the three-tier plan (PostgreSQL,
// API, front; test/fixtures/dr) with the real server, two real site agents and the real
// CLI: while a writer inserts a row through the front service every 100 ms, the primary
// site dies (SIGKILL of its site agent and of every workload process it runs). The
// failover fences dc1 without waiting for it and brings all three up at dc2 from the last
// replicated point: the rows lost are at most those written in the last replication
// interval plus one interval. RTO and RPO come from `dr run show --json`. The dead site's
// agent, started again, never starts its stale copy.
import assert from 'node:assert/strict';
import { aliveAt, e2eTest, front, idsAt, stepsOf, Writer } from './helpers/dr-e2e-world.ts';
import { eventually, type Json } from './helpers/dr-workload-sites.ts';

const INTERVAL_MS = 30_000;
const BACKUP_EVERY_MS = 3000; // test/helpers/dr-e2e-world.ts: DB_BACKUP_EVERY_MS

e2eTest(
  'unplanned failover with the primary site killed mid-writes: bounded loss, RTO/RPO, no stale start',
  async (t, world) => {
    world.startAgent('dc1');
    world.startAgent('dc2');
    await world.startPrimary();
    const writer = new Writer(world.ports.front, 100);
    const writing = Date.now();
    // A scheduled point (30 s replication, no replicate-now) holding a base backup taken
    // after the writer began (base backups every 3 s).
    await eventually(
      'a scheduled point of the database after the writer began',
      async () => {
        const db = (await world.status()).workloads.find((w: Json) => w.name === 'db');
        const at = db.replication?.lastPointAt;
        return at && Date.parse(at) > writing + 4000 ? true : undefined;
      },
      world.logs,
      INTERVAL_MS + 30_000,
    );
    await writer.more(20, world.logs);

    const victims = await aliveAt(world, 'dc1');
    assert.equal(victims.length, 3);
    await world.agents.dc1!.stop('SIGKILL');
    for (const r of victims) process.kill(-r.pid, 'SIGKILL');
    const killedAt = Date.now();
    await eventually(
      'dc1 is dead',
      async () => ((await aliveAt(world, 'dc1')).length ? undefined : true),
      world.logs,
    );

    const run = await world.failover('unplanned');
    assert.equal(run.state, 'succeeded', `${stepsOf(run)}\n${world.logs()}`);
    await writer.more(5, world.logs); // served by dc2
    await writer.stop();

    const present = new Set(await idsAt(world.ports.front));
    const beforeKill = writer.acked.filter((a) => a.at <= killedAt);
    const lost = beforeKill.filter((a) => !present.has(a.id));
    const bound = beforeKill.filter((a) => a.at > killedAt - 2 * INTERVAL_MS).length;
    const message = `unplanned failover: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s, ${lost.length} of ${beforeKill.length} acknowledged rows lost (bound ${bound})`;
    t.diagnostic(message);
    console.log(message);
    assert.ok(lost.length <= bound, message);
    assert.ok(
      lost.every((a) => a.at > killedAt - 2 * INTERVAL_MS),
      'only rows of the last intervals are lost',
    );
    // Sharper: every row acknowledged before the base backup the point holds (the point's
    // time less one backup period and a second for pg_basebackup itself) is kept.
    const pointAt = Date.parse(run.startedAt) - run.rpoSeconds * 1000;
    const keptBefore = pointAt - BACKUP_EVERY_MS - 1000;
    assert.deepEqual(
      lost.filter((a) => a.at < keptBefore),
      [],
      'rows older than the point used are kept',
    );
    assert.equal(typeof run.rtoSeconds, 'number');
    assert.ok(run.rpoSeconds !== null && run.rpoSeconds <= (2 * INTERVAL_MS) / 1000, `RPO ${run.rpoSeconds}`);
    const dc2 = await aliveAt(world, 'dc2');
    const served = await front(world.ports.front, 'GET', '/health');
    assert.ok(
      dc2.some((r: Json) => r.pid === served?.frontPid),
      'dc2 serves',
    );

    // The killed site comes back: its agent learns the newer epoch and never starts its
    // stale copy (its real ports are dc2's now, on this shared machine).
    const back = Date.now();
    world.startAgent('dc1');
    await eventually(
      'dc1 heartbeats again',
      async () => {
        const site = (await world.status()).sites.find((s: Json) => s.name === 'dc1');
        return site.lastHeartbeatAt && Date.parse(site.lastHeartbeatAt) > back ? true : undefined;
      },
      world.logs,
    );
    const stale = await world.command('dc1', 'start', { workload: 'db', epoch: 1, mode: 'real' });
    assert.equal(stale.state, 'failed', JSON.stringify(stale.result));
    assert.match(stale.result.steps.at(-1).detail, /^FENCED:/);
    assert.deepEqual(await aliveAt(world, 'dc1'), [], 'nothing runs at dc1');
    const still = await front(world.ports.front, 'POST', '/rows');
    assert.equal(still?.status, 200);
    assert.equal(still.frontPid, served?.frontPid, 'dc2 still serves');
  },
);

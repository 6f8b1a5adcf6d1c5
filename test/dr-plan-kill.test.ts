// The failover runner survives a crash of its server: the vault server runs as its own
// process (test/helpers/dr-world-child.ts) with its background tasks on their real
// timers, the two sites are real `offsite site-agent run` processes, and two small real
// workloads (db in the first group of the plan, app in the second) run at dc1.
//
// - A planned failover whose server is SIGKILLed while the second group's start command
//   is in flight at dc2 (the first group done and confirmed). A new server on the same
//   data folder waits for the dead one's runner lease to run out, then resumes the run
//   from the catalog: no step twice (each copy launched once, the epoch moved once), the
//   run succeeds with RPO 0 and its RTO, the workloads serve at dc2 and dc1 is fenced.
// - An unplanned failover (dc1 lost) asked of a server that is SIGKILLed before its
//   runner did anything: after the restart the run starts, once.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isAlive, ProcessTable, processId } from '../src/dr/agent/processes.ts';
import { runCli } from './helpers/cli.ts';
import { makeWorkload, rowsInFile, rowsServed, type TestWorkload } from './helpers/dr-workload.ts';
import { eventually, type Json } from './helpers/dr-workload-sites.ts';
import { type ChildDrWorld, startChildDrWorld } from './helpers/dr-world-child.ts';

const RUNNER_LEASE = 'task:dr-plan-runs';
/** A vault instance on another machine, as another server sharing the catalog would be. */
const OTHER_INSTANCE = 'other-vault.example/4242/0f0f0f0f';
/** Generous for a loaded 2-core machine: a resumed run needs a few seconds. */
const RESUME_WAIT_MS = 180_000;

interface Shop {
  world: ChildDrWorld;
  db: TestWorkload;
  app: TestWorkload;
  /** While this file is missing, a launched copy of app waits before it serves (its start is in flight). */
  gate: string;
  /** The fencing epoch of each launch of a workload's copy, at any site. */
  launches: (w: TestWorkload) => Promise<string[]>;
}

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });

/** Each launch is written down with its epoch; then the copy waits for the gate, if any, and runs. */
function instrumented(w: TestWorkload, gate?: string) {
  const log = join(w.data, '..', 'launches');
  const wait = gate ? `while [ ! -e '${gate}' ]; do sleep 0.1; done; ` : '';
  return { ...w.spec, start: `echo "$OFFSITE_DR_EPOCH" >> '${log}'; ${wait}${w.spec.start}` };
}

/** The world, db and app running at dc1 (epoch 1) and replicated to dc2, and the plan. */
async function startShop(t: Parameters<typeof startChildDrWorld>[0]): Promise<Shop> {
  const world = await startChildDrWorld(t);
  const gate = join(world.work, 'gate');
  await writeFile(gate, '');
  const db = await makeWorkload(world.work, 'db');
  const app = await makeWorkload(world.work, 'app');
  const workloads = [instrumented(db), instrumented(app, gate)];
  await world.ok('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify({ workloads }) });
  const plan = {
    name: 'shop',
    groups: [
      {
        name: 'data',
        workloads: ['db'],
        post: [{ type: 'manual', name: 'check-db', message: 'look at the rows', onlyFor: ['planned'] }],
      },
      { name: 'apps', workloads: ['app'] },
    ],
  };
  await world.ok('/v1/dr/plans', { method: 'PUT', body: JSON.stringify({ plans: [plan] }) });
  world.startAgent('dc1');
  world.startAgent('dc2');
  for (const w of [db, app]) {
    const started = await world.command('dc1', 'start', { workload: w.name, epoch: 1, mode: 'real' });
    assert.equal(started.state, 'succeeded', JSON.stringify(started.result));
  }
  await eventually(
    'a recovery point of each workload at dc2',
    async () => {
      const s = await world.ok('/v1/dr/status');
      const names = ['db', 'app'];
      return names.every((n) => s.workloads.find((w: Json) => w.name === n)?.replication?.lastPointId)
        ? true
        : undefined;
    },
    world.logs,
    120_000,
  );
  const launches = async (w: TestWorkload) =>
    (await readFile(join(w.data, '..', 'launches'), 'utf8').catch(() => '')).split('\n').slice(0, -1);
  return { world, db, app, gate, launches };
}

const stepOf = (run: Json, name: string) => run.steps.find((s: Json) => s.name === name);
const stepsOf = (run: Json) =>
  run.steps.map((s: Json) => `${s.name}: ${s.state} ${s.detail ?? ''}`).join('\n');

async function finalRun(world: ChildDrWorld, id: string): Promise<Json> {
  return eventually(
    `the run ${id} over`,
    async () => {
      const run = await world.call(`/v1/dr/runs/${id}`).catch(() => undefined);
      const json = run?.status === 200 ? run.json() : undefined;
      return json && json.state !== 'running' ? json : undefined;
    },
    world.logs,
    RESUME_WAIT_MS,
  );
}

/** "kind/workload" of each command a site got for the run (payload runId, or created since it started). */
async function commandsOfRun(world: ChildDrWorld, site: string, run: Json): Promise<string[]> {
  const { commands } = await world.ok(`/v1/sites/${site}/commands`);
  return commands
    .filter((c: Json) => c.payload.runId === run.id || Date.parse(c.createdAt) >= Date.parse(run.startedAt))
    .map((c: Json) => `${c.kind}/${c.payload.workload}`)
    .sort();
}

/** The run's end as the test demands it of both cases. */
async function assertFailedOver(shop: Shop, run: Json): Promise<void> {
  const { world } = shop;
  assert.equal(run.state, 'succeeded', `${run.error}\n${stepsOf(run)}\n${world.logs()}`);
  for (const s of run.steps) assert.ok(['succeeded', 'skipped'].includes(s.state), stepsOf(run));
  assert.equal(typeof run.rtoSeconds, 'number');
  assert.ok(run.rtoSeconds > 0, `RTO ${run.rtoSeconds}`);
  assert.equal(typeof run.rpoSeconds, 'number');
  // dc2 materialised, started and probed each workload once for the run.
  assert.deepEqual(await commandsOfRun(world, 'dc2', run), [
    'materialise/app',
    'materialise/db',
    'probe/app',
    'probe/db',
    'start/app',
    'start/db',
  ]);
  const table = new ProcessTable(join(world.dirs.dc2!, 'dr', 'processes'));
  const status = await world.ok('/v1/dr/status');
  for (const w of [shop.db, shop.app]) {
    // Launched once at epoch 1 (the primary at dc1, before the run) and once at epoch 2 (the run).
    assert.deepEqual(await shop.launches(w), ['1', '2'], `${w.name} launched once by the run`);
    const workload = status.workloads.find((x: Json) => x.name === w.name);
    assert.equal(workload.activeSite, 'dc2');
    assert.equal(workload.fencingEpoch, 2, 'the epoch moved once');
    // The copy serving is the one dc2's site agent started.
    const record = await table.get(processId('real', w.name, null));
    assert.ok(record && (await isAlive(record)), `${w.name} runs at dc2`);
    const served = await eventually(`${w.name} serves`, () => rowsServed(w.port), world.logs);
    assert.equal(served.pid, record.pid);
  }
}

/**
 * Walks the planned failover through group 1 (confirming its manual action) up to app's
 * start in flight at dc2: launched, waiting for the gate. Returns what db served at dc2.
 */
async function untilAppStarting(shop: Shop, id: string): Promise<{ rows: number }> {
  const { world } = shop;
  // Group 1 ends with its manual action; its confirmation lets group 2 begin.
  await eventually(
    'check-db waiting',
    async () => {
      const run = await world.ok(`/v1/dr/runs/${id}`);
      assert.equal(run.state, 'running', stepsOf(run));
      return stepOf(run, 'check-db').state === 'running' ? run : undefined;
    },
    world.logs,
    120_000,
  );
  const dbServes = await eventually('db at dc2 serves', () => rowsServed(shop.db.port), world.logs);
  await world.ok(`/v1/dr/runs/${id}/confirm`, post({ action: 'check-db' }));
  const inFlight = await eventually(
    "app's start in flight at dc2",
    async () => {
      const run = await world.ok(`/v1/dr/runs/${id}`);
      const launched = (await shop.launches(shop.app)).includes('2');
      return stepOf(run, 'start/app').state === 'running' && launched ? run : undefined;
    },
    world.logs,
    120_000,
  );
  assert.equal(stepOf(inFlight, 'health/db').state, 'succeeded');
  assert.equal(stepOf(inFlight, 'check-db').state, 'succeeded');
  return dbServes;
}

describe('a failover run survives its vault server being SIGKILLed', { concurrency: 2 }, () => {
  it('killed while the second group starts: the run resumes after a restart and finishes once', async (t) => {
    const shop = await startShop(t);
    const { world } = shop;
    await rm(shop.gate);
    const asked = await runCli(['dr', 'failover', 'shop', '--type', 'planned', '--json'], world.env);
    assert.equal(asked.code, 0, asked.stderr);
    const id = JSON.parse(asked.stdout.trim().split('\n').at(-1)!).id as string;

    const dbServes = await untilAppStarting(shop, id);

    await world.kill();
    const lease = await world.withCatalog(async (c) => {
      assert.equal((await c.getRun(id)).state, 'running');
      const start = (await c.listRunSteps(id)).find((s) => s.name === 'start/app')!;
      assert.equal(start.state, 'running');
      assert.equal((await c.getCommand(start.commandId!)).state, 'sent', 'taken by dc2, not reported');
      return (await c.listLeases()).find((l) => l.name === RUNNER_LEASE);
    });
    assert.ok(lease && lease.expiresAt > Date.now(), 'the dead server still holds the runner lease');
    // The copy comes up while no server listens: dc2 keeps its start's result and reports
    // it to the new server, which releases the dead one's runner lease at once.
    await writeFile(shop.gate, '');
    await eventually(
      'app at dc2 serves while the server is down',
      () => rowsServed(shop.app.port),
      world.logs,
    );
    await world.restart();

    const run = await finalRun(world, id);
    await assertFailedOver(shop, run);
    assert.match(world.logs(), /"msg":"lease of a dead predecessor released"/);
    assert.equal(run.rpoSeconds, 0, 'planned: the last changes synced after the stop');
    t.diagnostic(`planned failover resumed after SIGKILL: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s`);
    // dc1 stopped, synced and fenced each workload once; it refuses the old epoch now.
    assert.deepEqual(await commandsOfRun(world, 'dc1', run), [
      'fence/app',
      'fence/db',
      'replicate-now/app',
      'replicate-now/db',
      'stop/app',
      'stop/db',
    ]);
    const stale = await world.command('dc1', 'start', { workload: 'db', epoch: 1, mode: 'real' });
    assert.equal(stale.state, 'failed');
    assert.match(stale.result.steps.at(-1).detail, /^FENCED:/);
    // The db copy at dc2 went on from the synced data: every row, in order, no gap.
    const rows = await rowsInFile(shop.db.data);
    assert.ok(rows.length >= dbServes.rows);
    assert.deepEqual(
      rows,
      rows.map((_, i) => i + 1),
    );
  });

  it('killed right after the failover was asked: the run starts after a restart, once', async (t) => {
    const shop = await startShop(t);
    const { world } = shop;
    // Site dc1 is lost: its site agent and its workloads SIGKILLed.
    await world.agents.dc1!.stop('SIGKILL');
    const dc1 = new ProcessTable(join(world.dirs.dc1!, 'dr', 'processes'));
    for (const record of await dc1.list()) if (await isAlive(record)) process.kill(-record.pid, 'SIGKILL');
    await eventually(
      'the workloads at dc1 gone',
      async () => {
        for (const record of await dc1.list()) if (await isAlive(record)) return undefined;
        return true;
      },
      world.logs,
    );

    // Another vault instance (on another machine) holds the runner for now, so this server
    // stores the failover asked of it but cannot begin it before it is killed.
    await world.kill();
    const lease = await world.withCatalog(async (c) => {
      const dead = (await c.listLeases()).find((l) => l.name === RUNNER_LEASE)!;
      await c.releaseLease(RUNNER_LEASE, dead.holder, Date.now());
      return c.takeLease(RUNNER_LEASE, OTHER_INSTANCE, Date.now(), Date.now() + 10 * 60_000);
    });
    assert.equal(lease.holder, OTHER_INSTANCE);
    await world.restart();
    const asked = await world.ok('/v1/dr/plans/shop/failover', post({ type: 'unplanned' }), 201);
    await world.kill();
    await world.withCatalog(async (c) => {
      assert.deepEqual(
        (await c.listRuns({})).map((r) => r.id),
        [asked.id],
      );
      const steps = await c.listRunSteps(asked.id);
      const begun = steps.filter((s) => s.state !== 'pending' && s.state !== 'skipped');
      assert.deepEqual(begun, [], 'no step begun before the kill');
      assert.ok(lease.expiresAt > Date.now(), 'the kill came before the lease ran out');
    });

    // The other instance goes away: the next server begins the stored run.
    await world.withCatalog((c) => c.releaseLease(RUNNER_LEASE, OTHER_INSTANCE, Date.now()));
    await world.restart();
    const run = await finalRun(world, asked.id);
    await assertFailedOver(shop, run);
    t.diagnostic(
      `unplanned failover asked just before a SIGKILL: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s`,
    );
    const { runs } = await world.ok('/v1/dr/runs?plan=shop');
    assert.deepEqual(
      runs.map((r: Json) => r.id),
      [asked.id],
      'one run, neither lost nor doubled',
    );
    assert.equal(stepOf(run, 'check-db').state, 'skipped');
    // The fence for dc1 is queued once per workload, for when it returns.
    assert.deepEqual(await commandsOfRun(world, 'dc1', run), ['fence/app', 'fence/db']);
  });
});

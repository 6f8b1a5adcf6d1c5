// Disaster recovery end to end with real processes: the real vault server, two real
// `offsite site-agent run` processes (dc1, dc2) in their own folders replicating over
// mutual TLS on loopback, and a small real workload (a node HTTP service appending rows
// under its data path). Commands are queued through the server's catalog as the failover
// runner does. Both sites share this machine's file system, so a real copy lives in the
// same data path at either site; test copies have their own folder and ports.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive, ProcessTable, processId } from '../src/dr/agent/processes.ts';
import { makeWorkload, rowsInFile, rowsServed } from './helpers/dr-workload.ts';
import { type DrWorld, eventually, type Json, startDrWorld } from './helpers/dr-workload-sites.ts';

const OFFSET = 1000;

async function applyWorkloads(world: DrWorld, specs: Record<string, unknown>[]): Promise<void> {
  const r = await world.v.call('/v1/dr/workloads', {
    method: 'PUT',
    body: JSON.stringify({ workloads: specs }),
  });
  assert.equal(r.status, 200, r.text);
}

function ok(command: Json, what: string): Json {
  assert.equal(command.state, 'succeeded', `${what}: ${JSON.stringify(command.result)}`);
  return command.result;
}

function failedWith(command: Json, code: string): void {
  assert.equal(command.state, 'failed', JSON.stringify(command.result));
  const last = command.result.steps.at(-1);
  assert.ok(last.detail.startsWith(`${code}:`), JSON.stringify(command.result.steps));
}

async function processTable(world: DrWorld, site: string): Promise<ProcessTable> {
  return new ProcessTable(join(world.dirs[site]!, 'dr', 'processes'));
}

async function gone(path: string): Promise<boolean> {
  return stat(path).then(
    () => false,
    () => true,
  );
}

/** Both agents up, each knowing the other's replication address, replication reported. */
async function bothReplicating(world: DrWorld, names: string[]): Promise<Json> {
  return eventually(
    'replication reported for every workload',
    async () => {
      const s = await world.status();
      const all = names.every((n) => s.workloads.find((w: Json) => w.name === n)?.replication?.lastPointId);
      return all ? s : undefined;
    },
    world.logs,
  );
}

test('test failover, planned failover with zero rows lost, unplanned failover with a returning old primary', async (t) => {
  const world = await startDrWorld(t);
  const shop = await makeWorkload(world.work, 'shop');
  const ledger = await makeWorkload(world.work, 'ledger');
  await applyWorkloads(world, [shop.spec, ledger.spec]);
  world.startAgent('dc1');
  world.startAgent('dc2');

  // The primary starts both for real (epoch 1); replication runs and its health is reported.
  for (const w of [shop, ledger]) {
    ok(await world.command('dc1', 'start', { workload: w.name, epoch: 1, mode: 'real' }), `start ${w.name}`);
  }
  const first = await bothReplicating(world, ['shop', 'ledger']);
  const shopStatus = first.workloads.find((w: Json) => w.name === 'shop');
  assert.equal(shopStatus.replication.error, null);
  assert.equal(
    first.sites.find((s: Json) => s.name === 'dc2').inventory.replicationAddress.startsWith('127.0.0.1:'),
    true,
  );
  const point1 = ok(await world.command('dc1', 'replicate-now', { workload: 'shop' }), 'replicate-now');
  assert.match(point1.pointId, /^[0-9a-f]{64}$/);

  // Test failover: an isolated copy at dc2 (own folder, ports + OFFSET) while the primary
  // keeps serving and replicating.
  const runId = 'drill-1';
  const copy = ok(
    await world.command('dc2', 'materialise', { workload: 'shop', point: 'latest', mode: 'test', runId }),
    'materialise test',
  );
  const testRoot = join(world.dirs.dc2!, 'dr', 'tests', runId, 'shop');
  assert.deepEqual(copy.paths, [{ source: shop.data, at: join(testRoot, shop.data) }]);
  ok(
    await world.command('dc2', 'start', {
      workload: 'shop',
      epoch: 1,
      mode: 'test',
      runId,
      portOffset: OFFSET,
    }),
    'start test copy',
  );
  const isolated = await rowsServed(shop.port + OFFSET);
  assert.ok(isolated, 'the test copy answers on its shifted port');
  assert.equal(isolated.data, join(testRoot, shop.data));
  ok(await world.command('dc2', 'probe', { workload: 'shop', mode: 'test', runId }), 'probe test copy');
  const primaryBefore = (await rowsServed(shop.port))!;
  assert.notEqual(primaryBefore.pid, isolated.pid);
  const during = ok(
    await world.command('dc1', 'replicate-now', { workload: 'shop' }),
    'replicate during test',
  );
  assert.notEqual(during.pointId, point1.pointId);
  assert.ok((await rowsServed(shop.port))!.rows > primaryBefore.rows, 'the primary keeps writing');
  // Idempotent: the same start again finds the copy running.
  const again = ok(
    await world.command('dc2', 'start', {
      workload: 'shop',
      epoch: 1,
      mode: 'test',
      runId,
      portOffset: OFFSET,
    }),
    'start again',
  );
  assert.equal(again.pid, isolated.pid);
  const cleaned = ok(await world.command('dc2', 'cleanup-test', { runId }), 'cleanup-test');
  assert.deepEqual(cleaned.leftovers, []);
  assert.equal(await rowsServed(shop.port + OFFSET), undefined);
  assert.ok(await gone(join(world.dirs.dc2!, 'dr', 'tests', runId)));
  assert.deepEqual(await (await processTable(world, 'dc2')).list(), []);
  ok(await world.command('dc2', 'cleanup-test', { runId }), 'cleanup-test again');

  // Planned failover of shop: stop the source, final sync, fence, materialise, start.
  ok(await world.command('dc1', 'stop', { workload: 'shop', epoch: 1 }), 'stop');
  assert.equal(await rowsServed(shop.port), undefined, 'the source is stopped');
  const written = await rowsInFile(shop.data);
  const final = ok(await world.command('dc1', 'replicate-now', { workload: 'shop' }), 'final sync');
  const epoch = await world.advanceFencing('shop', 'dc2');
  assert.equal(epoch, 2);
  for (const site of ['dc1', 'dc2']) {
    ok(await world.command(site, 'fence', { workload: 'shop', epoch }), `fence ${site}`);
  }
  const real = ok(
    await world.command('dc2', 'materialise', {
      workload: 'shop',
      point: 'latest',
      mode: 'real',
      runId: 'planned-1',
    }),
    'materialise real',
  );
  assert.equal(real.pointId, final.pointId);
  ok(
    await world.command('dc2', 'start', { workload: 'shop', epoch, mode: 'real', runId: 'planned-1' }),
    'start real',
  );
  const served = (await rowsServed(shop.port))!;
  assert.ok(served.rows >= written.length);
  const after = await rowsInFile(shop.data);
  assert.deepEqual(after.slice(0, written.length), written, 'zero rows lost');
  assert.deepEqual(
    after,
    after.map((_, i) => i + 1),
    'rows numbered without a gap',
  );
  failedWith(await world.command('dc1', 'start', { workload: 'shop', epoch: 1, mode: 'real' }), 'FENCED');

  // Unplanned failover of ledger: its primary site agent and workload SIGKILLed.
  const dc1Table = await processTable(world, 'dc1');
  const ledgerRecord = (await dc1Table.get(processId('real', 'ledger', null)))!;
  assert.ok(await isAlive(ledgerRecord));
  const atRequest = (await rowsServed(ledger.port))!.rows;
  const last = ok(await world.command('dc1', 'replicate-now', { workload: 'ledger' }), 'ledger point');
  await world.agents.dc1!.stop('SIGKILL');
  process.kill(-ledgerRecord.pid, 'SIGKILL');
  await eventually(
    'the ledger stopped',
    async () => ((await isAlive(ledgerRecord)) ? undefined : true),
    world.logs,
  );
  const beforeKill = (await rowsInFile(ledger.data)).length;
  const ledgerEpoch = await world.advanceFencing('ledger', 'dc2');
  const pendingFence = await world.queue('dc1', 'fence', { workload: 'ledger', epoch: ledgerEpoch });
  ok(await world.command('dc2', 'fence', { workload: 'ledger', epoch: ledgerEpoch }), 'fence dc2');
  const restored = ok(
    await world.command('dc2', 'materialise', {
      workload: 'ledger',
      point: 'latest',
      mode: 'real',
      runId: 'u-1',
    }),
    'materialise ledger',
  );
  assert.equal(restored.pointId, last.pointId);
  const kept = (await rowsInFile(ledger.data)).length;
  assert.ok(kept >= atRequest, `rows acknowledged before the last point are kept (${kept} >= ${atRequest})`);
  assert.ok(kept <= beforeKill, `${kept} <= ${beforeKill}`);
  t.diagnostic(`unplanned: ${beforeKill - kept} rows lost (written after the last point)`);
  ok(
    await world.command('dc2', 'start', {
      workload: 'ledger',
      epoch: ledgerEpoch,
      mode: 'real',
      runId: 'u-1',
    }),
    'start ledger at dc2',
  );
  const atDc2 = (await rowsServed(ledger.port))!;
  assert.ok(atDc2.rows >= kept);

  // The old primary comes back with its stale copy running (here: the copy its machine
  // restarted, on another port as both sites share this host). Its site agent never
  // starts the stale copy and stops this one by itself.
  const spare = await makeWorkload(join(world.work, 'stale'), 'ledger');
  const stale = await dc1Table.start(
    {
      id: processId('real', 'ledger', null),
      workload: 'ledger',
      mode: 'real',
      runId: null,
      epoch: 1,
      drEnv: {},
    },
    spare.spec.start,
    { PATH: process.env.PATH },
  );
  await eventually('the stale copy serves', () => rowsServed(spare.port), world.logs);
  world.startAgent('dc1');
  await eventually(
    'the stale copy is stopped',
    async () => ((await isAlive(stale)) ? undefined : true),
    world.logs,
  );
  assert.equal(await rowsServed(spare.port), undefined);
  ok(await world.finished('dc1', pendingFence), 'the fence queued while dc1 was down');
  failedWith(await world.command('dc1', 'start', { workload: 'ledger', epoch: 1, mode: 'real' }), 'FENCED');
  assert.ok((await rowsServed(ledger.port))!.rows >= atDc2.rows, 'the new primary still serves');

  for (const [site, name] of [
    ['dc2', 'shop'],
    ['dc2', 'ledger'],
  ] as const) {
    ok(await world.command(site, 'stop', { workload: name, epoch: 2 }), `stop ${name}`);
  }
});

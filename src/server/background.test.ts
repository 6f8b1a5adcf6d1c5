import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteCatalog } from '../vault/catalog/index.ts';
import { type Background, type BackgroundTask, startBackground, taskLeaseName } from './background.ts';
import type { LogEntry } from './server.ts';
import type { Services } from './types.ts';

// Two "instances" (each its own catalog connection to one file, as two processes would
// have) run the same tasks: a task runs only where its lease is held, once per cycle in
// all, and moves to the other instance when its holder stops or dies.

const LEASE_MS = 60_000;

interface Instance {
  name: string;
  background: Background;
  logs: LogEntry[];
  catalog: SqliteCatalog;
}

/** A task that records which instance ran it, and when a run overlapped another. */
function countingTask(name: string, everyMs = 60_000) {
  const runs: string[] = [];
  let active = 0;
  let overlapped = false;
  const make = (instance: string): BackgroundTask => ({
    name,
    everyMs,
    run: async () => {
      active++;
      if (active > 1) overlapped = true;
      await sleep(5);
      runs.push(instance);
      active--;
    },
  });
  return { runs, make, overlapped: () => overlapped };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-background-'));
  let offset = 0;
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
  const instances: Instance[] = [];
  t.after(async () => {
    for (const i of instances) {
      await i.background.stop();
      await i.catalog.close();
    }
    await rm(dir, { recursive: true, force: true });
  });
  const start = (name: string, tasks: BackgroundTask[], timers: boolean): Instance => {
    const catalog = SqliteCatalog.open(join(dir, 'catalog.sqlite'));
    const services = { catalog, now: clock.now } as unknown as Services;
    const logs: LogEntry[] = [];
    const background = startBackground(tasks, services, (e) => logs.push(e), {
      timers,
      leaseMs: LEASE_MS,
      holder: name,
    });
    const instance = { name, background, logs, catalog };
    instances.push(instance);
    return instance;
  };
  return { clock, start };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await sleep(10);
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('runNow on two instances at once runs the task once, on the lease holder', async (t) => {
  const { start } = await setup(t);
  const gc = countingTask('gc');
  const a = start('a', [gc.make('a')], false);
  const b = start('b', [gc.make('b')], false);
  for (let cycle = 1; cycle <= 5; cycle++) {
    const results = await Promise.all([a.background.runNow('gc'), b.background.runNow('gc')]);
    assert.equal(results.filter((r) => r.ran).length, 1, `cycle ${cycle}: ${JSON.stringify(results)}`);
    assert.equal(gc.runs.length, cycle);
    const winner = results.find((r) => r.ran)!.holder;
    assert.ok(
      results.every((r) => r.holder === winner),
      'both name the one holder',
    );
  }
  assert.equal(new Set(gc.runs).size, 1, 'the holder keeps its lease from cycle to cycle');
  const [lease] = await a.catalog.listLeases();
  assert.deepEqual([lease!.name, lease!.holder, lease!.generation], [taskLeaseName('gc'), gc.runs[0], 1]);
});

test('a dead holder’s lease runs out and another instance takes the task over', async (t) => {
  const { clock, start } = await setup(t);
  const gc = countingTask('gc');
  const a = start('a', [gc.make('a')], false);
  const b = start('b', [gc.make('b')], false);
  assert.deepEqual(await a.background.runNow('gc'), { ran: true, holder: 'a' });
  assert.deepEqual(await b.background.runNow('gc'), { ran: false, holder: 'a' });
  // a stops renewing (as if it died): once its lease has run out, b takes over.
  clock.advance(LEASE_MS);
  assert.deepEqual(await b.background.runNow('gc'), { ran: true, holder: 'b' });
  assert.deepEqual(await a.background.runNow('gc'), { ran: false, holder: 'b' });
  assert.deepEqual(gc.runs, ['a', 'b']);
  assert.ok(a.logs.some((e) => e.msg === 'background lease lost' && e.to === 'b'));
  const [lease] = await b.catalog.listLeases();
  assert.equal(lease!.generation, 2);
});

test('a stopping instance gives its leases back at once', async (t) => {
  const { start } = await setup(t);
  const gc = countingTask('gc');
  const a = start('a', [gc.make('a')], false);
  const b = start('b', [gc.make('b')], false);
  await a.background.runNow('gc');
  await a.background.stop();
  assert.deepEqual(await b.background.runNow('gc'), { ran: true, holder: 'b' });
});

test('with timers on both, only the holder runs the task, never two runs at once', async (t) => {
  const { start } = await setup(t);
  const tick = countingTask('tick', 20);
  const a = start('a', [tick.make('a')], true);
  const b = start('b', [tick.make('b')], true);
  await until('ten runs', () => tick.runs.length >= 10);
  assert.equal(new Set(tick.runs).size, 1, `runs by ${[...new Set(tick.runs)].join(', ')}`);
  assert.equal(tick.overlapped(), false);
  const holder = tick.runs[0]!;
  const [holding, other] = holder === 'a' ? [a, b] : [b, a];
  // The holder stops: the other instance's own timer takes the task over.
  await holding.background.stop();
  const before = tick.runs.length;
  await until('a run on the other instance', () => tick.runs.slice(before).includes(other.name));
  assert.ok(other.logs.some((e) => e.msg === 'background lease taken' && e.task === 'tick'));
});

test('a task that finds its lease gone stops with LEASE_LOST, logged', async (t) => {
  const { clock, start } = await setup(t);
  let b: Instance | undefined;
  const steps: string[] = [];
  const task = (name: string): BackgroundTask => ({
    name: 'retention',
    everyMs: 60_000,
    run: async (_services, lease) => {
      steps.push(`${name} starts`);
      if (name === 'a') {
        clock.advance(LEASE_MS); // a stalls past its lease...
        await b!.background.runNow('retention'); // ...and b takes over meanwhile
        await lease.confirm();
        steps.push('a went on');
      }
    },
  });
  const a = start('a', [task('a')], false);
  b = start('b', [task('b')], false);
  assert.deepEqual(await a.background.runNow('retention'), { ran: true, holder: 'a' });
  assert.deepEqual(steps, ['a starts', 'b starts']);
  const failure = a.logs.find((e) => e.msg === 'background task failed');
  assert.match(String(failure?.error), /LEASE_LOST|ran out and is now held elsewhere/);
});

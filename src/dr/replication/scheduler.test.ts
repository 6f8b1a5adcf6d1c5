import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP_CONSISTENT, type Consistency, CRASH_CONSISTENT } from './protocol.ts';
import { parseFrequency, ReplicationScheduler } from './scheduler.ts';
import type { CycleResult } from './sender.ts';
import { emptyState, type SenderState } from './sender-state.ts';

/** A replicator that records what it was asked and updates its state as the real one does. */
function fakeReplicator(clock: { now: () => number }, fail: { next: boolean }) {
  const state: SenderState = emptyState();
  const asked: Consistency[] = [];
  return {
    asked,
    workload: 'shop',
    running: false,
    state: async () => state,
    replicate: async (consistency: Consistency = CRASH_CONSISTENT): Promise<CycleResult> => {
      asked.push(consistency);
      const at = new Date(clock.now()).toISOString();
      state.lastAttemptAt = at;
      if (fail.next) {
        fail.next = false;
        state.lastError = { code: 'VAULT_UNREACHABLE', message: 'cut', at };
        throw new Error('cut');
      }
      const point = { id: `p${asked.length}`, time: at, consistency, bytesSent: 1 };
      state.lastPoint = point;
      if (consistency === APP_CONSISTENT) state.lastAppConsistent = point;
      state.lastError = null;
      return {
        point,
        objectsSent: 1,
        packsSent: 0,
        filesChanged: 0,
        filesNew: 0,
        hookErrors: [],
        skipped: [],
      };
    },
  };
}

test('cycles run every interval, app-consistent when the last such point is N hours old', async () => {
  let now = Date.parse('2026-11-22T08:00:00Z');
  const clock = { now: () => now };
  const replicator = fakeReplicator(clock, { next: false });
  const scheduler = new ReplicationScheduler({
    replicator,
    frequency: '5m',
    appConsistentEveryHours: 1,
    clock,
  });

  assert.ok(await scheduler.runDue(), 'the first cycle is due at once');
  now += 4 * 60_000;
  assert.equal(await scheduler.runDue(), undefined, 'not yet due');
  now += 60_000;
  assert.ok(await scheduler.runDue());
  now += 55 * 60_000;
  assert.ok(await scheduler.runDue());
  assert.deepEqual(replicator.asked, [APP_CONSISTENT, CRASH_CONSISTENT, APP_CONSISTENT]);
  assert.equal(await scheduler.dueAt(), now + 5 * 60_000);
});

test('without an app-consistent interval every point is crash-consistent; a failed cycle is retried next interval', async () => {
  let now = Date.parse('2026-11-22T08:00:00Z');
  const clock = { now: () => now };
  const fail = { next: true };
  const replicator = fakeReplicator(clock, fail);
  const outcomes: boolean[] = [];
  const scheduler = new ReplicationScheduler({
    replicator,
    frequency: '30s',
    clock,
    onCycle: (o) => outcomes.push(o.ok),
  });
  assert.equal(await scheduler.runDue(), undefined);
  assert.equal((await scheduler.health()).state, 'failing');
  now += 30_000;
  assert.ok(await scheduler.runDue());
  assert.deepEqual(outcomes, [false, true]);
  assert.deepEqual(replicator.asked, [CRASH_CONSISTENT, CRASH_CONSISTENT]);
  const health = await scheduler.health();
  assert.equal(health.state, 'healthy');
  assert.equal(health.lagSeconds, 0);
  now += 2 * 60_000;
  assert.equal((await scheduler.health()).state, 'lagging', 'more than three intervals without a point');
  assert.equal((await scheduler.health()).lagSeconds, 120);
});

test('only the three frequencies are accepted', () => {
  assert.equal(parseFrequency('15m'), '15m');
  assert.throws(() => parseFrequency('1m'), { code: 'BAD_FREQUENCY' });
  const clock = { now: () => 0 };
  assert.throws(
    () =>
      new ReplicationScheduler({
        replicator: fakeReplicator(clock, { next: false }),
        frequency: '5m',
        appConsistentEveryHours: -1,
      }),
    { code: 'BAD_CONSISTENCY_INTERVAL' },
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SnapshotRef } from '../../repo/index.ts';
import { APP_CONSISTENT, CRASH_CONSISTENT, DR_TAG } from './protocol.ts';
import { planRetention } from './retention.ts';

function point(id: string, time: string, consistent = false): SnapshotRef {
  const tags = [DR_TAG, consistent ? APP_CONSISTENT : CRASH_CONSISTENT];
  return { id, snapshot: { time: `2026-11-22T${time}:00Z`, tags } } as unknown as SnapshotRef;
}

function kept(points: SnapshotRef[], hourly: number, appConsistent?: number): string[] {
  const policy = appConsistent === undefined ? { hourly } : { hourly, appConsistent };
  return planRetention(points, policy).keep.map((d) => `${d.ref.id}:${d.reasons.join('+')}`);
}

// Every 30 s for three hours would be many points; every 20 minutes shows the buckets.
const POINTS = [
  point('a', '08:00', true),
  point('b', '08:20'),
  point('c', '08:40'),
  point('d', '09:00'),
  point('e', '09:20', true),
  point('f', '09:40'),
  point('g', '10:00'),
  point('h', '10:20'),
];

test('the latest point is always kept; hourly 0 keeps only it and the newest app-consistent one', () => {
  assert.deepEqual(kept(POINTS, 0), ['h:latest', 'e:app-consistent']);
  assert.deepEqual(kept(POINTS, 0, 0), ['h:latest']);
});

test('hourly keeps the newest point of each earlier hour, up to the count', () => {
  assert.deepEqual(kept(POINTS, 1, 0), ['h:latest', 'f:hourly']);
  assert.deepEqual(kept(POINTS, 2, 0), ['h:latest', 'f:hourly', 'c:hourly']);
  assert.deepEqual(kept(POINTS, 24, 0), ['h:latest', 'f:hourly', 'c:hourly']);
});

test('app-consistent points are kept by count, newest first, beside the others', () => {
  assert.deepEqual(kept(POINTS, 1, 2), ['h:latest', 'f:hourly', 'e:app-consistent', 'a:app-consistent']);
  const { remove } = planRetention(POINTS, { hourly: 1, appConsistent: 2 });
  assert.deepEqual(
    remove.map((d) => d.ref.id),
    ['g', 'd', 'c', 'b'],
  );
});

test('input order does not matter, and nothing is kept of nothing', () => {
  assert.deepEqual(kept([...POINTS].reverse(), 2, 1), kept(POINTS, 2, 1));
  assert.deepEqual(planRetention([], { hourly: 3 }), { keep: [], remove: [] });
});

test('counts outside 0..24 are refused', () => {
  for (const policy of [{ hourly: 25 }, { hourly: -1 }, { hourly: 1.5 }, { hourly: 1, appConsistent: 30 }]) {
    assert.throws(() => planRetention(POINTS, policy), { code: 'BAD_REPLICA_RETENTION' });
  }
});

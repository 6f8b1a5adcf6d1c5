import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonObject, RunRow, RunStepRow, StepKind } from '../../catalog/index.ts';
import { isOver, measures } from './runner.ts';

const T = Date.UTC(2026, 0, 1);
const run = { startedAt: T } as RunRow;

function step(
  kind: StepKind,
  workloadId: string,
  finishedAt: number,
  result: JsonObject | null = null,
): RunStepRow {
  return { kind, workloadId, state: 'succeeded', finishedAt, result, onError: 'fail' } as RunStepRow;
}

test('RTO runs to the last health check passed; RPO is the age of the oldest point used at the start', () => {
  const steps = [
    step('materialise', 'a', T + 1000, { pointId: 'p1', pointTime: new Date(T - 30_000).toISOString() }),
    step('materialise', 'b', T + 1000, { pointId: 'p2', pointTime: new Date(T - 90_000).toISOString() }),
    step('probe', 'a', T + 40_000),
    step('probe', 'b', T + 65_000),
  ];
  assert.deepEqual(measures(run, steps, true), { healthyAt: T + 65_000, rtoMs: 65_000, rpoMs: 90_000 });
  assert.deepEqual(measures(run, steps, false), { rpoMs: 90_000 }, 'no RTO for a failed run');
  assert.deepEqual(measures(run, steps.slice(2), true), { healthyAt: T + 65_000, rtoMs: 65_000 });
});

test('planned: the point the sync made after the stop is zero data loss, whatever the clocks say', () => {
  const steps = [
    step('replicate-now', 'a', T + 500, { pointId: 'last', pointTime: new Date(T - 5000).toISOString() }),
    step('materialise', 'a', T + 1000, { pointId: 'last', pointTime: new Date(T - 5000).toISOString() }),
    step('probe', 'a', T + 2000),
  ];
  assert.equal(measures(run, steps, true).rpoMs, 0);
  const older = [
    steps[0]!,
    step('materialise', 'a', T + 1000, { pointId: 'before', pointTime: new Date(T - 5000).toISOString() }),
  ];
  assert.equal(measures(run, older, true).rpoMs, 5000);
});

test('a step is over when it succeeded, was skipped or abandoned, or failed with onError continue', () => {
  const of = (state: RunStepRow['state'], onError: 'fail' | 'continue' = 'fail') =>
    ({ state, onError }) as RunStepRow;
  assert.deepEqual(
    [
      of('succeeded'),
      of('skipped'),
      of('abandoned'),
      of('failed', 'continue'),
      of('failed'),
      of('running'),
      of('pending'),
    ].map(isOver),
    [true, true, true, true, false, false, false],
  );
});

import type { Catalog, RunChanges, RunRow, RunStepRow, StepPhase } from '../../catalog/index.ts';
import { advanceStep } from './execute.ts';

// The runner: walks each active run's steps as far as they go now. A step is over when
// it succeeded, was skipped, or failed with onError continue; a failure with onError
// fail ends the run (failed). The next stage starts only when every step of the one
// before is over, so a group starts once each workload of the previous one is healthy.
// Everything it knows is in the catalog: a restarted server picks up where it stopped.

const MAX_PASSES = 200;

export function isOver(step: RunStepRow): boolean {
  return (
    step.state === 'succeeded' ||
    step.state === 'skipped' ||
    step.state === 'abandoned' ||
    (step.state === 'failed' && step.onError === 'continue')
  );
}

function stopsTheRun(step: RunStepRow): boolean {
  return step.state === 'failed' && step.onError === 'fail';
}

function pointTime(step: RunStepRow): number | null {
  const value = step.result?.pointTime;
  const ms = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The age of the data a materialise step used: 0 when it is the very point the planned
 * failover's sync made after the stop (nothing written since), else start − point time.
 */
function dataAge(run: RunRow, step: RunStepRow, synced: ReadonlyMap<string | null, unknown>): number | null {
  const pointId = step.result?.pointId;
  if (pointId !== undefined && synced.get(step.workloadId) === pointId) return 0;
  const time = pointTime(step);
  return time === null ? null : Math.max(0, run.startedAt - time);
}

/** RTO: start → the last health check passed. RPO: the oldest data used (see dataAge). */
export function measures(run: RunRow, steps: readonly RunStepRow[], succeeded: boolean): RunChanges {
  const probes = steps.filter((s) => s.kind === 'probe' && s.state === 'succeeded');
  const synced = new Map(
    steps
      .filter((s) => s.kind === 'replicate-now' && s.state === 'succeeded')
      .map((s) => [s.workloadId, s.result?.pointId]),
  );
  const ages = steps
    .filter((s) => s.kind === 'materialise' && s.state === 'succeeded')
    .map((s) => dataAge(run, s, synced));
  const changes: RunChanges = {};
  if (succeeded && probes.length > 0) {
    const healthyAt = Math.max(...probes.map((s) => s.finishedAt ?? run.startedAt));
    changes.healthyAt = healthyAt;
    changes.rtoMs = Math.max(0, healthyAt - run.startedAt);
  }
  if (ages.length > 0 && ages.every((a) => a !== null)) changes.rpoMs = Math.max(...(ages as number[]));
  return changes;
}

async function endPhase(
  catalog: Catalog,
  run: RunRow,
  phase: StepPhase,
  steps: readonly RunStepRow[],
  failed: RunStepRow | undefined,
  now: number,
): Promise<void> {
  // A step not begun is skipped; one in flight is left to its agent (its result is kept if it comes).
  for (const step of steps.filter((s) => s.state === 'pending' || s.state === 'running')) {
    await catalog.updateRunStep(run.id, step.seq, {
      expectState: step.state,
      state: step.state === 'pending' ? 'skipped' : 'abandoned',
      finishedAt: now,
      detail: `the ${phase === 'cleanup' ? 'cleanup' : 'run'} failed at "${failed?.name}"`,
    });
  }
  if (phase === 'cleanup') {
    await catalog.updateRun(run.id, {
      cleanupState: failed ? 'failed' : 'succeeded',
      cleanupFinishedAt: now,
    });
    return;
  }
  await catalog.updateRun(run.id, {
    state: failed ? 'failed' : 'succeeded',
    finishedAt: now,
    ...measures(run, steps, !failed),
    ...(failed ? { error: `step "${failed.name}" failed: ${failed.detail ?? 'no detail'}` } : {}),
  });
}

/** One pass over the run's current stage; true when something changed. */
async function pass(catalog: Catalog, run: RunRow, phase: StepPhase, now: number): Promise<boolean> {
  let steps = (await catalog.listRunSteps(run.id)).filter((s) => s.phase === phase);
  if (phase === 'cleanup') {
    // Each `dr cleanup` adds a stage of its own: only the latest attempt counts.
    const last = Math.max(...steps.map((s) => s.stage));
    steps = steps.filter((s) => s.stage === last);
  }
  const failed = steps.find(stopsTheRun);
  const open = steps.filter((s) => !isOver(s));
  if (failed || open.length === 0) {
    await endPhase(catalog, run, phase, steps, failed, now);
    return false;
  }
  const stage = Math.min(...open.map((s) => s.stage));
  const firstOfLane = new Map<string, RunStepRow>();
  for (const step of open.filter((s) => s.stage === stage)) {
    if (!firstOfLane.has(step.lane)) firstOfLane.set(step.lane, step);
  }
  let changed = false;
  for (const step of firstOfLane.values()) {
    if (await advanceStep(catalog, run, step, now)) changed = true;
  }
  return changed;
}

/** Advances one run as far as it goes now. */
export async function advanceRun(catalog: Catalog, runId: string, now: () => number): Promise<RunRow> {
  for (let i = 0; i < MAX_PASSES; i++) {
    const run = await catalog.getRun(runId);
    const phase: StepPhase | undefined =
      run.state === 'running' ? 'failover' : run.cleanupState === 'running' ? 'cleanup' : undefined;
    if (!phase || !(await pass(catalog, run, phase, now()))) break;
  }
  return catalog.getRun(runId);
}

/** Advances every active run; `confirm` checks before each that this instance still holds the lease. */
export async function advanceRuns(
  catalog: Catalog,
  now: () => number,
  confirm?: () => Promise<void>,
): Promise<RunRow[]> {
  const advanced: RunRow[] = [];
  for (const run of await catalog.listActiveRuns()) {
    await confirm?.();
    advanced.push(await advanceRun(catalog, run.id, now));
  }
  return advanced;
}

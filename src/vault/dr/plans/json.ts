import type { Catalog, PlanRow, RunRow, RunStepRow } from '../../catalog/index.ts';
import { iso } from '../../ops/index.ts';

// Plans and runs as the routes answer them: names instead of ids, ISO times.

export function planJson(plan: PlanRow) {
  return {
    name: plan.name,
    version: plan.version,
    spec: plan.spec,
    createdAt: iso(plan.createdAt),
    updatedAt: iso(plan.updatedAt),
  };
}

export function runJson(run: RunRow, planName: string) {
  return {
    id: run.id,
    plan: planName,
    planVersion: run.planVersion,
    type: run.type,
    failback: run.failback,
    point: run.point,
    portOffset: run.portOffset,
    startedBy: run.startedBy,
    state: run.state,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    healthyAt: iso(run.healthyAt),
    rtoSeconds: run.rtoMs === null ? null : run.rtoMs / 1000,
    rpoSeconds: run.rpoMs === null ? null : run.rpoMs / 1000,
    error: run.error,
    committedAt: iso(run.committedAt),
    cleanup: run.cleanupState,
    cleanupStartedAt: iso(run.cleanupStartedAt),
    cleanupFinishedAt: iso(run.cleanupFinishedAt),
  };
}

export function stepJson(step: RunStepRow, siteNames: ReadonlyMap<string, string>) {
  const ms = step.startedAt !== null && step.finishedAt !== null ? step.finishedAt - step.startedAt : null;
  return {
    seq: step.seq,
    name: step.name,
    phase: step.phase,
    stage: step.stage,
    kind: step.kind,
    site: step.siteId === null ? null : (siteNames.get(step.siteId) ?? step.siteId),
    workload: typeof step.params.workload === 'string' ? step.params.workload : null,
    onError: step.onError,
    onlyFor: step.params.onlyFor ?? null,
    state: step.state,
    command: step.commandId,
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    seconds: ms === null ? null : ms / 1000,
    detail: step.detail,
    result: step.result,
  };
}

/** A run with its steps (step timings included), for `dr run show`. */
export async function runDetailJson(catalog: Catalog, run: RunRow, planName: string) {
  const steps = await catalog.listRunSteps(run.id);
  const names = new Map((await catalog.listSites()).map((s) => [s.id, s.name]));
  for (const step of steps) {
    if (step.siteId !== null && !names.has(step.siteId))
      names.set(step.siteId, (await catalog.getSite(step.siteId)).name);
  }
  return { ...runJson(run, planName), steps: steps.map((s) => stepJson(s, names)) };
}

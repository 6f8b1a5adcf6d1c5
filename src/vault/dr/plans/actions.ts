import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { Catalog, NewRunStep, PlanRow, RunRow, WorkloadRow } from '../../catalog/index.ts';
import type { PlanSpec } from './plan-file.ts';
import { startFailover } from './start.ts';

// What people do to runs besides starting them: confirm a manual action, commit a real
// failover, clean up a test, reverse replication (reprotect) and fail back.

/** Marks a waiting manual action done: the run goes on at its next advance. */
export async function confirmAction(catalog: Catalog, run: RunRow, name: string, who: string, now: number) {
  const step = (await catalog.listRunSteps(run.id)).find((s) => s.name === name);
  if (step?.kind !== 'manual') {
    throw new NotFoundError('ACTION_NOT_FOUND', `run ${run.id} has no manual action "${name}"`, {
      hint: 'see its steps with `offsite dr run show RUN`',
    });
  }
  if (step.state !== 'running') {
    const why = step.state === 'pending' ? 'is not waiting yet' : `is ${step.state} already`;
    throw new ConflictError('ACTION_NOT_WAITING', `the manual action "${name}" ${why}`);
  }
  return catalog.updateRunStep(run.id, step.seq, {
    expectState: 'running',
    state: 'succeeded',
    finishedAt: now,
    detail: `confirmed by ${who}`,
  });
}

/** A real failover that succeeded is made final: only then may its replication be reversed. */
export async function commitRun(catalog: Catalog, run: RunRow, now: number): Promise<RunRow> {
  if (run.type === 'test') {
    throw new ConflictError('RUN_NOT_COMMITTABLE', 'a test failover is not committed: clean it up instead', {
      hint: `offsite dr cleanup ${run.id}`,
    });
  }
  if (run.state !== 'succeeded') {
    throw new ConflictError(
      'RUN_NOT_COMMITTABLE',
      `run ${run.id} is ${run.state}: only a succeeded failover is committed`,
    );
  }
  if (run.committedAt !== null) return run;
  return catalog.updateRun(run.id, { committedAt: now });
}

/** Queues cleanup-test at every site the test ran at; the runner checks that nothing is left. */
export async function startCleanup(catalog: Catalog, run: RunRow, now: number): Promise<RunRow> {
  if (run.type !== 'test')
    throw new ConflictError('NOT_A_TEST', `run ${run.id} is a ${run.type} failover, not a test`);
  if (run.state === 'running') {
    throw new ConflictError('RUN_STILL_RUNNING', `test ${run.id} is still running`, {
      hint: 'wait for it to end (see `offsite dr run show RUN`), then clean up',
    });
  }
  if (run.cleanupState === 'running' || run.cleanupState === 'succeeded') return run;
  const steps = await catalog.listRunSteps(run.id);
  const siteIds = [...new Set(steps.filter((s) => s.kind === 'materialise').map((s) => s.siteId!))];
  const stage = Math.max(0, ...steps.map((s) => s.stage)) + 1;
  const attempt = steps.filter((s) => s.kind === 'cleanup-test').length / Math.max(1, siteIds.length) + 1;
  const cleanup: NewRunStep[] = [];
  for (const siteId of siteIds) {
    const site = await catalog.getSite(siteId);
    cleanup.push({
      name: `cleanup/${site.name}/${Math.floor(attempt)}`,
      phase: 'cleanup',
      stage,
      lane: site.name,
      kind: 'cleanup-test',
      workloadId: null,
      siteId,
      params: { timeoutMs: 10 * 60_000 },
      onError: 'fail',
      state: 'pending',
    });
  }
  return catalog.transaction(async (tx) => {
    await tx.addRunSteps(run.id, cleanup);
    return tx.updateRun(run.id, { cleanupState: 'running', cleanupStartedAt: now });
  });
}

/** The newest succeeded real failover of the workload, from the latest runs of its vault. */
async function lastRealRun(catalog: Catalog, workload: WorkloadRow): Promise<RunRow | undefined> {
  const runs = await catalog.listRuns({ vaultId: workload.vaultId, limit: 500 });
  for (const run of runs.filter((r) => r.type !== 'test' && r.state === 'succeeded')) {
    if ((await catalog.listRunSteps(run.id)).some((s) => s.workloadId === workload.id)) return run;
  }
  return undefined;
}

async function checkReprotect(catalog: Catalog, workload: WorkloadRow): Promise<void> {
  const fencing = await catalog.getFencing(workload.id);
  if (fencing.activeSiteId === workload.primarySiteId) {
    throw new ConflictError(
      'REPROTECT_NOT_NEEDED',
      `the workload "${workload.name}" runs at its primary site already`,
      {
        hint: 'reprotect follows a failover: `offsite dr failover PLAN --type planned|unplanned`, then `dr commit RUN`',
      },
    );
  }
  const last = await lastRealRun(catalog, workload);
  if (last && last.committedAt === null) {
    throw new ConflictError(
      'FAILOVER_NOT_COMMITTED',
      `the failover ${last.id} of "${workload.name}" is not committed`,
      {
        hint: `offsite dr commit ${last.id}`,
      },
    );
  }
}

/** Reverse replication: each workload's active site becomes its primary; the site agents follow. */
export async function reprotect(
  catalog: Catalog,
  workloads: readonly WorkloadRow[],
  now: number,
): Promise<WorkloadRow[]> {
  for (const w of workloads) await checkReprotect(catalog, w);
  return catalog.transaction(async (tx) => {
    const reversed: WorkloadRow[] = [];
    for (const w of workloads) reversed.push(await tx.reverseWorkload(w.name, now));
    return reversed;
  });
}

/** The plan's workloads as rows. */
export async function planWorkloads(catalog: Catalog, plan: PlanRow): Promise<WorkloadRow[]> {
  const spec = plan.spec as unknown as PlanSpec;
  const names = spec.groups.flatMap((g) => g.workloads);
  return Promise.all(names.map((n) => catalog.getWorkloadByName(n)));
}

/** A planned failover back, once the failover is committed and its replication reversed. */
export async function failback(
  catalog: Catalog,
  plan: PlanRow,
  startedBy: string,
  now: number,
): Promise<RunRow> {
  const runs = (await catalog.listRuns({ planId: plan.id, limit: 500 })).filter(
    (r) => r.type !== 'test' && r.state === 'succeeded',
  );
  const last = runs[0];
  if (!last || last.failback) {
    throw new ConflictError(
      'NOTHING_TO_FAIL_BACK',
      `the plan "${plan.name}" has no failover to fail back from`,
    );
  }
  if (last.committedAt === null) {
    throw new ConflictError('FAILOVER_NOT_COMMITTED', `the failover ${last.id} is not committed`, {
      hint: `offsite dr commit ${last.id}`,
    });
  }
  for (const w of await planWorkloads(catalog, plan)) {
    if ((await catalog.getFencing(w.id)).activeSiteId !== w.primarySiteId) {
      throw new ConflictError('REPROTECT_FIRST', `the workload "${w.name}" still replicates the old way`, {
        hint: `offsite dr reprotect ${plan.name}`,
      });
    }
  }
  return startFailover(
    catalog,
    plan,
    { type: 'planned', point: 'latest', portOffset: 0, failback: true, startedBy },
    now,
  );
}

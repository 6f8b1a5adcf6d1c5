import { randomUUID } from 'node:crypto';
import { BadInputError } from '../../../errors/index.ts';
import type {
  AppliedPlan,
  NewPlan,
  NewRun,
  NewRunStep,
  PlanRow,
  RunChanges,
  RunListOptions,
  RunRow,
  RunStepRow,
  StepChanges,
  WorkloadDrill,
} from '../dr-plan-types.ts';
import { RUN_TYPES, STEP_KINDS, STEP_PHASES, STEP_STATES } from '../dr-plan-types.ts';
import type { WorkloadRow } from '../dr-types.ts';
import * as check from '../validate.ts';
import { getWorkloadByName } from './dr-ops.ts';
import * as rows from './dr-plan-rows.ts';
import * as drRows from './dr-rows.ts';
import { all, get, type Operation, type Param, run } from './dr-steps.ts';

// Recovery plans, their runs and run steps, written once for both backends in the style
// of ./dr.ts: generators yielding portable SQL, each run atomically by its backend
// (../sqlite/dr-plans.ts, ../postgres/dr-plans.ts).

const DEFAULT_RUN_LIST = 50;
const MAX_STEPS = 2000;

// ---- plans

function* findPlan(name: string): Operation<PlanRow | undefined> {
  const row = yield* get(`SELECT ${rows.PLAN_COLUMNS} FROM dr_plans WHERE name = ?`, name);
  return row && rows.toPlan(row);
}

function* applyPlan(input: NewPlan, at: number): Operation<AppliedPlan> {
  const name = check.text('name', input.name, 100);
  const spec = check.jsonObject('spec', input.spec);
  const vault = yield* get('SELECT id FROM vaults WHERE id = ? AND deleted_at IS NULL', input.vaultId);
  if (!vault) throw new BadInputError('BAD_FIELD', `vaultId: no live vault ${input.vaultId}`);
  const existing = yield* findPlan(name);
  if (existing && existing.vaultId !== input.vaultId) throw rows.planOfOtherVault(name);
  if (!existing) {
    yield* run(
      `INSERT INTO dr_plans (${rows.PLAN_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?)`,
      randomUUID(),
      input.vaultId,
      name,
      spec,
      at,
      at,
    );
    return { plan: yield* getPlanByName(name), change: 'created' };
  }
  if (JSON.stringify(existing.spec) === spec) return { plan: existing, change: 'unchanged' };
  yield* run(
    'UPDATE dr_plans SET spec = ?, version = version + 1, updated_at = ? WHERE id = ?',
    spec,
    at,
    existing.id,
  );
  return { plan: yield* getPlanByName(name), change: 'updated' };
}

/** All or nothing, like workloads. */
export function* applyPlans(inputs: readonly NewPlan[], at: number): Operation<AppliedPlan[]> {
  check.whole('at', at);
  const names = new Set<string>();
  const applied: AppliedPlan[] = [];
  for (const input of inputs) {
    if (names.has(input.name)) throw new BadInputError('BAD_FIELD', `name: "${input.name}" is given twice`);
    names.add(input.name);
    applied.push(yield* applyPlan(input, at));
  }
  return applied;
}

export function* getPlanByName(name: string): Operation<PlanRow> {
  const plan = yield* findPlan(name);
  if (!plan) throw rows.planNotFound(name);
  return plan;
}

export function* getPlan(id: string): Operation<PlanRow> {
  const row = yield* get(`SELECT ${rows.PLAN_COLUMNS} FROM dr_plans WHERE id = ?`, id);
  if (!row) throw rows.planNotFound(id);
  return rows.toPlan(row);
}

export function* listPlans(options?: { vaultId?: string }): Operation<PlanRow[]> {
  const found =
    options?.vaultId === undefined
      ? yield* all(`SELECT ${rows.PLAN_COLUMNS} FROM dr_plans ORDER BY name`)
      : yield* all(
          `SELECT ${rows.PLAN_COLUMNS} FROM dr_plans WHERE vault_id = ? ORDER BY name`,
          options.vaultId,
        );
  return found.map(rows.toPlan);
}

// ---- runs

function stepValues(step: NewRunStep, seq: number): Param[] {
  return [
    seq,
    check.text('steps.name', step.name, 200),
    check.oneOf('steps.phase', step.phase, STEP_PHASES),
    check.whole('steps.stage', step.stage),
    check.text('steps.lane', step.lane, 200),
    check.oneOf('steps.kind', step.kind, STEP_KINDS),
    step.workloadId,
    step.siteId,
    check.jsonObject('steps.params', step.params),
    check.oneOf('steps.onError', step.onError, ['fail', 'continue'] as const),
    check.oneOf('steps.state', step.state, STEP_STATES),
  ];
}

function* insertSteps(runId: string, steps: readonly NewRunStep[]): Operation<void> {
  if (steps.length > MAX_STEPS) throw new BadInputError('BAD_FIELD', `steps: at most ${MAX_STEPS}`);
  const last = yield* get('SELECT MAX(seq) AS seq FROM dr_run_steps WHERE run_id = ?', runId);
  let seq = last?.seq === null || last?.seq === undefined ? 0 : Number(last.seq) + 1;
  for (const step of steps) {
    yield* run(
      `INSERT INTO dr_run_steps (run_id, seq, name, phase, stage, lane, kind, workload_id, site_id, params,
         on_error, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      runId,
      ...stepValues(step, seq++),
    );
  }
}

/** A workload of `workloadIds` in a run that still holds it: running, cleaning up, or (for a test) not cleaned up. */
function* busyWorkload(workloadIds: readonly string[], type: string): Operation<void> {
  if (workloadIds.length === 0) return;
  const marks = workloadIds.map(() => '?').join(', ');
  // A test copy left running holds its ports at the replica: another test waits for its cleanup.
  const uncleanTest =
    type === 'test'
      ? " OR (r.type = 'test' AND (r.cleanup_state IS NULL OR r.cleanup_state <> 'succeeded'))"
      : '';
  const found = yield* all(
    `SELECT DISTINCT r.id, r.state, r.type, r.cleanup_state, s.workload_id
     FROM dr_runs r JOIN dr_run_steps s ON s.run_id = r.id
     WHERE s.workload_id IN (${marks})
       AND (r.state = 'running' OR r.cleanup_state = 'running'${uncleanTest})
     ORDER BY r.id`,
    ...workloadIds,
  );
  const first = found[0];
  if (!first) return;
  const workload = yield* get('SELECT name FROM dr_workloads WHERE id = ?', String(first.workload_id));
  const why =
    first.state === 'running'
      ? 'in a running failover'
      : first.cleanup_state === 'running'
        ? 'in a test being cleaned up'
        : 'in a test failover not cleaned up yet';
  throw rows.workloadBusy(String(workload?.name ?? first.workload_id), String(first.id), why);
}

/** Refuses a run on a workload another run holds (RUN_IN_PROGRESS). */
export function* createRun(input: NewRun): Operation<RunRow> {
  const type = check.oneOf('type', input.type, RUN_TYPES);
  const startedAt = check.whole('startedAt', input.startedAt);
  const plan = yield* getPlan(input.planId);
  const workloadIds = [...new Set(input.steps.flatMap((s) => (s.workloadId === null ? [] : [s.workloadId])))];
  yield* busyWorkload(workloadIds, type);
  const id = randomUUID();
  yield* run(
    `INSERT INTO dr_runs (id, plan_id, vault_id, plan_version, type, failback, point, port_offset, started_by,
       state, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
    id,
    plan.id,
    plan.vaultId,
    check.whole('planVersion', input.planVersion),
    type,
    check.boolean('failback', input.failback) ? 1 : 0,
    check.text('point', input.point, 100),
    check.whole('portOffset', input.portOffset),
    check.text('startedBy', input.startedBy, 200),
    startedAt,
  );
  yield* insertSteps(id, input.steps);
  return yield* getRun(id);
}

export function* getRun(id: string): Operation<RunRow> {
  const row = yield* get(`SELECT ${rows.RUN_COLUMNS} FROM dr_runs WHERE id = ?`, id);
  if (!row) throw rows.runNotFound(id);
  return rows.toRun(row);
}

/** Newest first. */
export function* listRuns(options?: RunListOptions): Operation<RunRow[]> {
  const where: string[] = [];
  const params: Param[] = [];
  if (options?.vaultId !== undefined) {
    where.push('vault_id = ?');
    params.push(options.vaultId);
  }
  if (options?.planId !== undefined) {
    where.push('plan_id = ?');
    params.push(options.planId);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const found = yield* all(
    `SELECT ${rows.RUN_COLUMNS} FROM dr_runs ${filter} ORDER BY started_at DESC, id LIMIT ?`,
    ...params,
    check.limit(options?.limit ?? DEFAULT_RUN_LIST),
  );
  return found.map(rows.toRun);
}

/** Runs the runner must advance: running, or cleaning up. Oldest first. */
export function* listActiveRuns(): Operation<RunRow[]> {
  const found = yield* all(
    `SELECT ${rows.RUN_COLUMNS} FROM dr_runs WHERE state = 'running' OR cleanup_state = 'running'
     ORDER BY started_at, id`,
  );
  return found.map(rows.toRun);
}

const RUN_CHANGE_COLUMNS: readonly [keyof RunChanges, string][] = [
  ['state', 'state'],
  ['finishedAt', 'finished_at'],
  ['healthyAt', 'healthy_at'],
  ['rtoMs', 'rto_ms'],
  ['rpoMs', 'rpo_ms'],
  ['error', 'error'],
  ['committedAt', 'committed_at'],
  ['cleanupState', 'cleanup_state'],
  ['cleanupStartedAt', 'cleanup_started_at'],
  ['cleanupFinishedAt', 'cleanup_finished_at'],
];

function runChangeValue(key: keyof RunChanges, value: unknown): Param {
  if (key === 'state') return check.oneOf('state', value, ['running', 'succeeded', 'failed'] as const);
  if (key === 'cleanupState')
    return check.oneOf('cleanupState', value, ['running', 'succeeded', 'failed'] as const);
  if (key === 'error') return check.longText('error', value);
  return check.whole(key, value);
}

export function* updateRun(id: string, changes: RunChanges): Operation<RunRow> {
  yield* getRun(id);
  const sets: string[] = [];
  const params: Param[] = [];
  for (const [key, column] of RUN_CHANGE_COLUMNS) {
    if (changes[key] === undefined) continue;
    sets.push(`${column} = ?`);
    params.push(runChangeValue(key, changes[key]));
  }
  if (sets.length > 0) yield* run(`UPDATE dr_runs SET ${sets.join(', ')} WHERE id = ?`, ...params, id);
  return yield* getRun(id);
}

// ---- run steps

export function* listRunSteps(runId: string): Operation<RunStepRow[]> {
  yield* getRun(runId);
  const found = yield* all(`SELECT ${STEP_SELECT} FROM dr_run_steps WHERE run_id = ? ORDER BY seq`, runId);
  return found.map(rows.toStep);
}

const STEP_SELECT = rows.STEP_COLUMNS;

function* getStep(runId: string, seq: number): Operation<RunStepRow> {
  const row = yield* get(`SELECT ${STEP_SELECT} FROM dr_run_steps WHERE run_id = ? AND seq = ?`, runId, seq);
  if (!row) throw rows.stepNotFound(runId, seq);
  return rows.toStep(row);
}

/** Changes a step only from the state the caller saw (STEP_CHANGED otherwise): no change is made twice. */
export function* updateRunStep(runId: string, seq: number, changes: StepChanges): Operation<RunStepRow> {
  const expect = check.oneOf('expectState', changes.expectState, STEP_STATES);
  const state = check.oneOf('state', changes.state, STEP_STATES);
  const step = yield* getStep(runId, seq);
  if (step.state !== expect) throw rows.stepChanged(step, expect);
  yield* run(
    `UPDATE dr_run_steps SET state = ?, command_id = COALESCE(?, command_id), started_at = COALESCE(?, started_at),
       finished_at = COALESCE(?, finished_at), detail = COALESCE(?, detail), result = COALESCE(?, result)
     WHERE run_id = ? AND seq = ?`,
    state,
    changes.commandId === undefined ? null : check.text('commandId', changes.commandId),
    changes.startedAt === undefined ? null : check.whole('startedAt', changes.startedAt),
    changes.finishedAt === undefined ? null : check.whole('finishedAt', changes.finishedAt),
    changes.detail === undefined ? null : check.longText('detail', changes.detail),
    changes.result === undefined ? null : check.jsonObject('result', changes.result),
    runId,
    seq,
  );
  return yield* getStep(runId, seq);
}

/** Appends steps (numbered after the last one): a test's cleanup. */
export function* addRunSteps(runId: string, steps: readonly NewRunStep[]): Operation<RunStepRow[]> {
  yield* getRun(runId);
  yield* insertSteps(runId, steps);
  return yield* listRunSteps(runId);
}

// ---- workloads and drills

/** Reverse replication: the replica becomes the primary (in the row and its spec), version + 1. */
export function* reverseWorkload(name: string, at: number): Operation<WorkloadRow> {
  check.whole('at', at);
  const workload = yield* getWorkloadByName(name);
  const spec = { ...workload.spec };
  const primary = yield* get('SELECT name FROM dr_sites WHERE id = ?', workload.replicaSiteId);
  const replica = yield* get('SELECT name FROM dr_sites WHERE id = ?', workload.primarySiteId);
  spec.primarySite = String(primary?.name ?? spec.replicaSite);
  spec.replicaSite = String(replica?.name ?? spec.primarySite);
  yield* run(
    `UPDATE dr_workloads SET primary_site_id = ?, replica_site_id = ?, spec = ?, version = version + 1, updated_at = ?
     WHERE id = ?`,
    workload.replicaSiteId,
    workload.primarySiteId,
    JSON.stringify(spec),
    at,
    workload.id,
  );
  const row = yield* get(`SELECT ${drRows.WORKLOAD_COLUMNS} FROM dr_workloads WHERE id = ?`, workload.id);
  return drRows.toWorkload(row!);
}

/** Per workload, the end of its last test failover that succeeded. */
export function* listWorkloadDrills(options?: { vaultId?: string }): Operation<WorkloadDrill[]> {
  const byVault = options?.vaultId !== undefined;
  const found = yield* all(
    `SELECT s.workload_id, MAX(r.finished_at) AS last_test_at
     FROM dr_runs r JOIN dr_run_steps s ON s.run_id = r.id
     WHERE r.type = 'test' AND r.state = 'succeeded' AND s.workload_id IS NOT NULL
       ${byVault ? 'AND r.vault_id = ?' : ''}
     GROUP BY s.workload_id ORDER BY s.workload_id`,
    ...(byVault ? [options.vaultId as string] : []),
  );
  return found.map((r) => ({ workloadId: String(r.workload_id), lastTestAt: Number(r.last_test_at) }));
}

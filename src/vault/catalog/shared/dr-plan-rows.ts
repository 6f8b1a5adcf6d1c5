import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { PlanRow, RunRow, RunStepRow } from '../dr-plan-types.ts';
import {
  CLEANUP_STATES,
  RUN_STATES,
  RUN_TYPES,
  STEP_KINDS,
  STEP_PHASES,
  STEP_STATES,
} from '../dr-plan-types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The recovery plan tables (migration 6) as both backends see them: columns, rows as
// objects and the errors of their operations. ./dr-plans.ts holds the operations.

export const PLAN_COLUMNS = 'id, vault_id, name, spec, version, created_at, updated_at';
export const RUN_COLUMNS =
  'id, plan_id, vault_id, plan_version, type, failback, point, port_offset, started_by, state, started_at, ' +
  'finished_at, healthy_at, rto_ms, rpo_ms, error, committed_at, cleanup_state, cleanup_started_at, cleanup_finished_at';
export const STEP_COLUMNS =
  'run_id, seq, name, phase, stage, lane, kind, workload_id, site_id, params, on_error, state, command_id, ' +
  'started_at, finished_at, detail, result';

export function toPlan(row: Row): PlanRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    name: str(row, 'name'),
    spec: check.parseObject(str(row, 'spec')),
    version: num(row, 'version'),
    createdAt: num(row, 'created_at'),
    updatedAt: num(row, 'updated_at'),
  };
}

export function toRun(row: Row): RunRow {
  const cleanup = optStr(row, 'cleanup_state');
  return {
    id: str(row, 'id'),
    planId: str(row, 'plan_id'),
    vaultId: str(row, 'vault_id'),
    planVersion: num(row, 'plan_version'),
    type: check.oneOf('type', str(row, 'type'), RUN_TYPES),
    failback: num(row, 'failback') === 1,
    point: str(row, 'point'),
    portOffset: num(row, 'port_offset'),
    startedBy: str(row, 'started_by'),
    state: check.oneOf('state', str(row, 'state'), RUN_STATES),
    startedAt: num(row, 'started_at'),
    finishedAt: optNum(row, 'finished_at'),
    healthyAt: optNum(row, 'healthy_at'),
    rtoMs: optNum(row, 'rto_ms'),
    rpoMs: optNum(row, 'rpo_ms'),
    error: optStr(row, 'error'),
    committedAt: optNum(row, 'committed_at'),
    cleanupState: cleanup === null ? null : check.oneOf('cleanupState', cleanup, CLEANUP_STATES),
    cleanupStartedAt: optNum(row, 'cleanup_started_at'),
    cleanupFinishedAt: optNum(row, 'cleanup_finished_at'),
  };
}

export function toStep(row: Row): RunStepRow {
  const result = optStr(row, 'result');
  return {
    runId: str(row, 'run_id'),
    seq: num(row, 'seq'),
    name: str(row, 'name'),
    phase: check.oneOf('phase', str(row, 'phase'), STEP_PHASES),
    stage: num(row, 'stage'),
    lane: str(row, 'lane'),
    kind: check.oneOf('kind', str(row, 'kind'), STEP_KINDS),
    workloadId: optStr(row, 'workload_id'),
    siteId: optStr(row, 'site_id'),
    params: check.parseObject(str(row, 'params')),
    onError: check.oneOf('onError', str(row, 'on_error'), ['fail', 'continue'] as const),
    state: check.oneOf('state', str(row, 'state'), STEP_STATES),
    commandId: optStr(row, 'command_id'),
    startedAt: optNum(row, 'started_at'),
    finishedAt: optNum(row, 'finished_at'),
    detail: optStr(row, 'detail'),
    result: result === null ? null : check.parseObject(result),
  };
}

export function planNotFound(name: string): NotFoundError {
  return new NotFoundError('PLAN_NOT_FOUND', `no recovery plan named "${name}"`, {
    hint: 'list the plans with `offsite dr plan list`',
  });
}

export function planOfOtherVault(name: string): ConflictError {
  return new ConflictError('PLAN_NAME_TAKEN', `the plan name "${name}" is used in another vault`, {
    hint: 'plan names are unique on the server: choose another name',
  });
}

export function runNotFound(id: string): NotFoundError {
  return new NotFoundError('RUN_NOT_FOUND', `no recovery plan run ${id}`, {
    hint: 'list the runs with `offsite dr runs`',
  });
}

export function stepNotFound(runId: string, seq: number): NotFoundError {
  return new NotFoundError('STEP_NOT_FOUND', `run ${runId} has no step ${seq}`);
}

export function stepChanged(step: RunStepRow, expected: string): ConflictError {
  return new ConflictError(
    'STEP_CHANGED',
    `step "${step.name}" of run ${step.runId} is ${step.state}, not ${expected}`,
    { hint: 'see the run with `offsite dr run show RUN`' },
  );
}

export function workloadBusy(workload: string, runId: string, why: string): ConflictError {
  return new ConflictError('RUN_IN_PROGRESS', `the workload "${workload}" is ${why} (run ${runId})`, {
    hint: 'wait for that run to end (and clean up a test with `offsite dr cleanup RUN`)',
  });
}

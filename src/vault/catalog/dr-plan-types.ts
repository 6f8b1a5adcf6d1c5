import type { JsonObject } from './rows.ts';

// The rows of recovery plans and their runs (migration 6, DESIGN.md §6) as the Catalog
// hands them out. Times are milliseconds since the epoch.

/** A recovery plan as declared (the checked YAML, as JSON). */
export interface PlanRow {
  id: string;
  vaultId: string;
  name: string;
  spec: JsonObject;
  /** 1 when created; one more each time an apply changes the spec. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewPlan {
  vaultId: string;
  name: string;
  spec: JsonObject;
}

export interface AppliedPlan {
  plan: PlanRow;
  change: 'created' | 'updated' | 'unchanged';
}

export const RUN_TYPES = ['test', 'planned', 'unplanned'] as const;
export type RunType = (typeof RUN_TYPES)[number];

export const RUN_STATES = ['running', 'succeeded', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const CLEANUP_STATES = ['running', 'succeeded', 'failed'] as const;
export type CleanupState = (typeof CLEANUP_STATES)[number];

/** One execution of a plan: a failover (or a failback, a planned failover back). */
export interface RunRow {
  id: string;
  planId: string;
  vaultId: string;
  planVersion: number;
  type: RunType;
  failback: boolean;
  /** latest | latest-consistent | an ISO time. */
  point: string;
  /** Added to the ports of a test copy (0 for a real failover). */
  portOffset: number;
  /** The name of the API token that started it. */
  startedBy: string;
  state: RunState;
  startedAt: number;
  finishedAt: number | null;
  /** When the last health check passed (all workloads healthy). */
  healthyAt: number | null;
  /** healthyAt − startedAt. */
  rtoMs: number | null;
  /** The largest age of the data used: startedAt − time of the recovery point, at least 0. */
  rpoMs: number | null;
  error: string | null;
  committedAt: number | null;
  /** A test's cleanup; null before `dr cleanup`. */
  cleanupState: CleanupState | null;
  cleanupStartedAt: number | null;
  cleanupFinishedAt: number | null;
}

export interface NewRun {
  planId: string;
  planVersion: number;
  type: RunType;
  failback: boolean;
  point: string;
  portOffset: number;
  startedBy: string;
  startedAt: number;
  steps: readonly NewRunStep[];
}

export interface RunChanges {
  state?: RunState;
  finishedAt?: number;
  healthyAt?: number;
  rtoMs?: number;
  rpoMs?: number;
  error?: string;
  committedAt?: number;
  cleanupState?: CleanupState;
  cleanupStartedAt?: number;
  cleanupFinishedAt?: number;
}

export const STEP_PHASES = ['failover', 'cleanup'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

export const STEP_STATES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'abandoned'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const STEP_KINDS = [
  'script',
  'manual',
  'delay',
  'stop',
  'replicate-now',
  'fence',
  'materialise',
  'start',
  'probe',
  'cleanup-test',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/**
 * One step of a run. Steps of a stage start once every earlier stage is over; within a
 * stage, a lane's steps run one after the other and lanes run side by side.
 */
export interface RunStepRow {
  runId: string;
  seq: number;
  /** Unique in its run: what `dr confirm RUN NAME` names for a manual action. */
  name: string;
  phase: StepPhase;
  stage: number;
  lane: string;
  kind: StepKind;
  workloadId: string | null;
  siteId: string | null;
  /** What the step does: a command payload, a duration, a message, a time-out. */
  params: JsonObject;
  onError: 'fail' | 'continue';
  state: StepState;
  commandId: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  detail: string | null;
  result: JsonObject | null;
}

export type NewRunStep = Omit<
  RunStepRow,
  'runId' | 'seq' | 'commandId' | 'startedAt' | 'finishedAt' | 'detail' | 'result'
>;

export interface StepChanges {
  /** The change is made only while the step is in this state (else STEP_CHANGED). */
  expectState: StepState;
  state: StepState;
  commandId?: string;
  startedAt?: number;
  finishedAt?: number;
  detail?: string;
  result?: JsonObject;
}

export interface RunListOptions {
  vaultId?: string;
  planId?: string;
  limit?: number;
}

/** The last successful test failover of each workload that had one. */
export interface WorkloadDrill {
  workloadId: string;
  lastTestAt: number;
}

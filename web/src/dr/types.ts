import type { Role } from '../api.ts';

// The disaster recovery part of the public API as the console reads it: GET /v1/dr/status,
// /v1/dr/plans and /v1/dr/runs[/:id] (src/server/dr-routes.ts, dr-plan-routes.ts).

/** Every act on a plan or a run (failover, confirm, commit, cleanup) is an owner's: it moves production. */
export const DR_ACT_ROLE: Role = 'owner';

/** The server marks a site down after 60 s of silence by default; older than this, a heartbeat is late. */
export const HEARTBEAT_LATE_MS = 60_000;

export interface SiteInventory {
  host?: string;
  agentVersion?: string;
  replicationAddress?: string | null;
}

export interface SiteStatus {
  name: string;
  vault: string;
  state: 'up' | 'down' | 'never-heard';
  lastHeartbeatAt: string | null;
  downSince: string | null;
  agentRegisteredAt: string | null;
  inventory: SiteInventory | null;
}

export interface WorkloadStatus {
  name: string;
  vault: string;
  version: number;
  primarySite: string;
  replicaSite: string;
  activeSite: string;
  fencingEpoch: number;
  frequency: string | null;
  replication: {
    reportedBy: string;
    reportedAt: string;
    lastPointAt: string | null;
    lastPointId: string | null;
    consistent: boolean;
    lagSeconds: number | null;
    error: string | null;
  } | null;
  rpoSeconds: number | null;
  lastTestFailoverAt: string | null;
  testOverdue: boolean;
}

export interface DrStatus {
  at: string;
  sites: SiteStatus[];
  workloads: WorkloadStatus[];
}

export type RunType = 'test' | 'planned' | 'unplanned';

export interface ActionSpec {
  name: string;
  type: 'script' | 'manual' | 'delay';
  onlyFor: RunType[];
  onError: 'fail' | 'continue';
  timeoutMs: number | null;
  site: string | null;
  command: string | null;
  message: string | null;
  durationMs: number | null;
}

export interface GroupSpec {
  name: string;
  workloads: string[];
  pre: ActionSpec[];
  post: ActionSpec[];
}

export interface Plan {
  name: string;
  version: number;
  spec: { name: string; description: string | null; groups: GroupSpec[] };
  createdAt: string;
  updatedAt: string;
}

export interface Run {
  id: string;
  plan: string;
  planVersion: number;
  type: RunType;
  failback: boolean;
  point: string;
  portOffset: number;
  startedBy: string;
  state: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  healthyAt: string | null;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  error: string | null;
  committedAt: string | null;
  cleanup: 'running' | 'succeeded' | 'failed' | null;
  cleanupStartedAt: string | null;
  cleanupFinishedAt: string | null;
}

export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface Step {
  seq: number;
  name: string;
  phase: 'failover' | 'cleanup';
  stage: number;
  kind: string;
  site: string | null;
  workload: string | null;
  onError: 'fail' | 'continue';
  onlyFor: RunType[] | null;
  state: StepState;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  detail: string | null;
}

export interface RunDetail extends Run {
  steps: Step[];
}

/** A run is live while its failover or its cleanup goes on. */
export function isLive(run: Run): boolean {
  return run.state === 'running' || run.cleanup === 'running';
}

/** A manual action waits for a person while its step runs. */
export function isWaiting(step: Step): boolean {
  return step.kind === 'manual' && step.state === 'running';
}

export function runPath(id: string): string {
  return `/dr/runs/${encodeURIComponent(id)}`;
}

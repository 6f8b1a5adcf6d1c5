import type { Repository } from '../../repo/index.ts';
import type { Consistency } from './protocol.ts';
import { listPoints, openReplica, type PointInfo, pointOf } from './replica.ts';
import type { CycleError, SenderState } from './sender-state.ts';

// Replication health as the control plane sends it in heartbeats: metadata only.

export type HealthState = 'healthy' | 'lagging' | 'failing' | 'never-replicated';

export interface ReplicationHealth {
  workload: string;
  state: HealthState;
  lastPoint: { id: string; time: string; consistency: Consistency } | null;
  lastConsistentPoint: { id: string; time: string } | null;
  /** Age of the data in the last point (the current RPO), in seconds; null before the first. */
  lagSeconds: number | null;
  lastAttemptAt: string | null;
  lastError: CycleError | null;
  running: boolean;
}

/**
 * From the primary's state: lagging when the last point is older than two intervals plus
 * the time a cycle may take (one interval), failing when the last attempt failed.
 */
export function senderHealth(
  workload: string,
  state: SenderState,
  options: { now: number; frequencyMs: number; running: boolean },
): ReplicationHealth {
  const last = state.lastPoint;
  const lagMs = last ? Math.max(0, options.now - Date.parse(last.time)) : null;
  const failedLast = state.lastError !== null && !isHookError(state.lastError);
  const health: HealthState = !last
    ? failedLast
      ? 'failing'
      : 'never-replicated'
    : failedLast
      ? 'failing'
      : lagMs! > 3 * options.frequencyMs
        ? 'lagging'
        : 'healthy';
  return {
    workload,
    state: health,
    lastPoint: last ? { id: last.id, time: last.time, consistency: last.consistency } : null,
    lastConsistentPoint: state.lastAppConsistent
      ? { id: state.lastAppConsistent.id, time: state.lastAppConsistent.time }
      : null,
    lagSeconds: lagMs === null ? null : Math.round(lagMs / 1000),
    lastAttemptAt: state.lastAttemptAt,
    lastError: state.lastError,
    running: options.running,
  };
}

/** Hook failures leave a point behind: they are reported, but replication itself works. */
function isHookError(error: CycleError): boolean {
  return /^(FREEZE|THAW)_HOOK_/.test(error.code);
}

export interface ReplicaHealth {
  workload: string;
  points: number;
  latest: PointInfo | null;
  latestConsistent: PointInfo | null;
  /** Age of the newest point held here, in seconds. */
  lagSeconds: number | null;
}

/** From the replica's own repository (the replica site agent's view). */
export async function replicaHealth(workload: string, repo: Repository, now: number): Promise<ReplicaHealth> {
  const points = (await listPoints(repo)).map(pointOf);
  const latest = points.at(-1) ?? null;
  return {
    workload,
    points: points.length,
    latest,
    latestConsistent: points.findLast((p) => p.consistency === 'app-consistent') ?? null,
    lagSeconds: latest ? Math.max(0, Math.round((now - Date.parse(latest.time)) / 1000)) : null,
  };
}

/** The same, opening the replica repository of `workload` under the replication root. */
export async function replicaStatus(root: string, workload: string, now: number): Promise<ReplicaHealth> {
  return replicaHealth(workload, await openReplica(root, workload), now);
}

import { BadInputError } from '../../errors/index.ts';
import type { SnapshotRef } from '../../repo/index.ts';
import { APP_CONSISTENT } from './protocol.ts';

// Which recovery points a replica keeps. Pure: the points and the policy in, decisions
// out. Kept, each for its reasons:
// - the latest point;
// - hourly: the newest point of each of the `hourly` most recent clock hours (UTC) that
//   have points, not counting the latest point's own hour (the latest covers it);
// - app-consistent: the `appConsistent` newest application-consistent points.

export interface ReplicaRetention {
  /** Extra hourly points, 0 to 24. */
  hourly: number;
  /** Application-consistent points kept besides, 0 to 24 (default 1: failover can always pick one). */
  appConsistent?: number;
}

export const MAX_HOURLY_POINTS = 24;
const HOUR_MS = 3_600_000;

export function checkRetention(policy: ReplicaRetention): Required<ReplicaRetention> {
  const appConsistent = policy.appConsistent ?? 1;
  for (const [what, value] of [
    ['hourly', policy.hourly],
    ['appConsistent', appConsistent],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_HOURLY_POINTS) {
      throw new BadInputError(
        'BAD_REPLICA_RETENTION',
        `${what} must be a whole number from 0 to 24, got ${value}`,
      );
    }
  }
  return { hourly: policy.hourly, appConsistent };
}

export interface RetentionDecision {
  ref: SnapshotRef;
  reasons: string[];
}

function newestFirst(a: SnapshotRef, b: SnapshotRef): number {
  return (
    Date.parse(b.snapshot.time) - Date.parse(a.snapshot.time) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

export function planRetention(
  points: readonly SnapshotRef[],
  policy: ReplicaRetention,
): { keep: RetentionDecision[]; remove: RetentionDecision[] } {
  const { hourly, appConsistent } = checkRetention(policy);
  const sorted = [...points].sort(newestFirst);
  const reasons = new Map<string, string[]>(sorted.map((ref) => [ref.id, []]));
  const latest = sorted[0];
  if (latest) reasons.get(latest.id)!.push('latest');
  const hours = new Set<number>(latest ? [Math.floor(Date.parse(latest.snapshot.time) / HOUR_MS)] : []);
  for (const ref of sorted) {
    const hour = Math.floor(Date.parse(ref.snapshot.time) / HOUR_MS);
    if (hours.has(hour) || hours.size > hourly) continue;
    hours.add(hour);
    reasons.get(ref.id)!.push('hourly');
  }
  let consistent = 0;
  for (const ref of sorted) {
    if (consistent >= appConsistent) break;
    if (!ref.snapshot.tags.includes(APP_CONSISTENT)) continue;
    consistent++;
    reasons.get(ref.id)!.push(APP_CONSISTENT);
  }
  const keep: RetentionDecision[] = [];
  const remove: RetentionDecision[] = [];
  for (const ref of sorted) {
    const why = reasons.get(ref.id)!;
    (why.length > 0 ? keep : remove).push({ ref, reasons: why });
  }
  return { keep, remove };
}

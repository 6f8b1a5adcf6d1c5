import { applyPolicy } from '../../repo/retention.ts';
import type { Snapshot, SnapshotRef, SnapshotStats } from '../../repo/snapshot.ts';
import type { PointRow } from '../catalog/index.ts';
import { engineRetention, type VaultPolicy } from '../policy.ts';

// Which active recovery points of one server the policy lets go. The counting is the
// engine's own (src/repo/retention.ts: restic's `forget` buckets, in the policy's time
// zone), applied to each backup set — the points of one host and set of paths — so a
// server that backs up two sets keeps each set's history.

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A point as the engine's retention sees a snapshot: only time, host, paths and tags count. */
export function pointAsSnapshot(point: PointRow): SnapshotRef {
  const { hostname, paths, tags } = point.stats;
  const snapshot: Snapshot = {
    version: 1,
    time: new Date(point.time).toISOString(),
    tree: '',
    paths: strings(paths),
    hostname: typeof hostname === 'string' ? hostname : '',
    username: '',
    tags: strings(tags),
    program: '',
    stats: {} as SnapshotStats,
  };
  return { id: point.id, snapshot };
}

/**
 * The points to soft-delete, from one server's active points. Held points (undeleted by
 * a person, for a while) are left out of the counting; the server's newest point is never
 * expired, whatever the policy says.
 */
export function expiredPoints(
  active: readonly PointRow[],
  policy: VaultPolicy,
  now: number,
  held: ReadonlySet<string>,
): PointRow[] {
  const counted = active.filter((p) => !held.has(p.id));
  if (counted.length === 0) return [];
  const newest = active.reduce((a, b) => (b.time > a.time ? b : a));
  const { remove } = applyPolicy(counted.map(pointAsSnapshot), engineRetention(policy), {
    now: new Date(now),
    timeZone: policy.schedule.timeZone,
  });
  const expired = new Set(remove.map((d) => d.ref.id));
  return counted.filter((p) => expired.has(p.id) && p.id !== newest.id);
}

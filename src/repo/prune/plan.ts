import type { Marker } from '../gc-markers.ts';
import type { SessionInfo } from '../sessions.ts';
import type { PackUsage } from './usage.ts';

export interface PrunePolicy {
  /** Repack a pack when more than this share of its bytes is unused (0..1). */
  maxUnused: number;
  /** How long a pack stays condemned before it may be deleted. */
  graceMs: number;
  /** Allowance for clocks of different machines disagreeing. */
  skewMs: number;
}

export interface PrunePlan {
  /** Condemned earlier, still unused, grace passed, no session could rely on them. */
  remove: string[];
  /** Condemned earlier but needed again (a backup that was running referred to them). */
  revive: string[];
  /** Unused now and not yet condemned (indexed or not). */
  condemn: string[];
  /** Partly used beyond maxUnused: live blobs are copied, then the pack is condemned. */
  repack: string[];
  /** Condemned packs that sessions still protect. */
  blocked: string[];
}

/**
 * Decides what prune does (design.md §11). `checkedAt` is when the live sessions were
 * listed, before the snapshots were scanned: a pack condemned at T may go only if every
 * backup that could have missed the marker (started before T + skew) had ended by then.
 */
export function planPrune(input: {
  usage: ReadonlyMap<string, PackUsage>;
  unindexed: ReadonlyMap<string, number>;
  markers: readonly Marker[];
  sessions: readonly SessionInfo[];
  checkedAt: Date;
  policy: PrunePolicy;
}): PrunePlan {
  const { usage, unindexed, markers, sessions, checkedAt, policy } = input;
  const plan: PrunePlan = { remove: [], revive: [], condemn: [], repack: [], blocked: [] };
  const condemnedAt = new Map<string, number>();
  for (const marker of markers) {
    for (const pack of marker.packs)
      condemnedAt.set(pack, Math.min(condemnedAt.get(pack) ?? Infinity, marker.time.getTime()));
  }
  const unused = (id: string) => unindexed.has(id) || (usage.get(id)?.usedBlobs ?? 0) === 0;
  const oldestSession = Math.min(...sessions.map((s) => Date.parse(s.started)));
  for (const [id, time] of condemnedAt) {
    if (!unindexed.has(id) && !usage.has(id)) continue; // already gone from storage
    if (!unused(id)) {
      plan.revive.push(id);
      continue;
    }
    const settled =
      time + policy.skewMs < checkedAt.getTime() && time + policy.graceMs <= checkedAt.getTime();
    const protectedBySession = oldestSession < time + policy.skewMs;
    if (settled && !protectedBySession) plan.remove.push(id);
    else plan.blocked.push(id);
  }
  for (const id of unindexed.keys()) if (!condemnedAt.has(id)) plan.condemn.push(id);
  for (const [id, pack] of usage) {
    if (condemnedAt.has(id)) continue;
    if (pack.usedBlobs === 0) plan.condemn.push(id);
    else if (pack.totalBytes > 0 && 1 - pack.usedBytes / pack.totalBytes > policy.maxUnused)
      plan.repack.push(id);
  }
  return plan;
}

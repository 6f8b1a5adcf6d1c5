import { bitmap, type PackRow } from '../catalog/index.ts';

// What one garbage-collection run does to one server's packs: a pure decision over the
// catalog's rows, so every rule is tested without storage.
//
// The rules (DESIGN.md §2.7, docs/design.md §15):
// - A pack that a point which is not deleted references (the retained bitmap) is kept,
//   and uncondemned if it was condemned (a late commit needs it again).
// - An unreferenced pack that some point — of any state, deleted ones too — has ever
//   referenced lost its last reference through retention: it is condemned at once.
// - An unreferenced pack that no point ever referenced may belong to a backup that has
//   not committed yet (packs are uploaded before the point): it is condemned only once it
//   is older than unreferencedAgeMs (7 days), by when such a backup is long dead.
// - A condemned pack is deleted after graceMs (24 h) — and not while a job of the server
//   that started before the condemnation (plus clock skew) still runs: that backup may
//   have read the index before the marker existed and may still reference it.

export interface GcOptions {
  /** How long a pack stays condemned before it is deleted. */
  graceMs: number;
  /** How old a pack no point ever referenced must be before it is condemned. */
  unreferencedAgeMs: number;
  /** Clock skew allowed between the vault and agents, for the running-jobs rule. */
  skewMs: number;
  /** A job still "running" after this long is taken for dead and blocks nothing. */
  staleJobMs: number;
}

const HOUR = 3_600_000;
export const DEFAULT_GC_OPTIONS: Readonly<GcOptions> = {
  graceMs: 24 * HOUR,
  unreferencedAgeMs: 7 * 24 * HOUR,
  skewMs: 5 * 60_000,
  staleJobMs: 7 * 24 * HOUR,
};

export interface GcInput {
  /** The server's packs that are not deleted. */
  packs: readonly PackRow[];
  /** Union of the bitmaps of the server's points that are not deleted. */
  retained: Uint8Array;
  /** Sequence numbers some point ever referenced (at least every young unreferenced one it did). */
  everReferenced: ReadonlySet<number>;
  /** Start times of the server's jobs that are running. */
  runningJobs: readonly number[];
  now: number;
  options: GcOptions;
}

export interface GcPlan {
  condemn: PackRow[];
  uncondemn: PackRow[];
  /** Condemned long enough, and no running job may rely on them. */
  remove: PackRow[];
  /** Condemned long enough, but a job that may rely on them still runs. */
  blocked: PackRow[];
  /** Unreferenced, never referenced, and too young to condemn. */
  young: PackRow[];
}

export function planGc(input: GcInput): GcPlan {
  const { now, options } = input;
  const plan: GcPlan = { condemn: [], uncondemn: [], remove: [], blocked: [], young: [] };
  const liveJobs = input.runningJobs.filter((started) => now - started < options.staleJobMs);
  for (const pack of input.packs) {
    if (pack.deletedAt !== null) continue;
    if (bitmap.has(input.retained, pack.seq)) {
      if (pack.condemnedAt !== null) plan.uncondemn.push(pack);
    } else if (pack.condemnedAt === null) {
      const lostItsPoints = input.everReferenced.has(pack.seq);
      if (lostItsPoints || now - pack.createdAt >= options.unreferencedAgeMs) plan.condemn.push(pack);
      else plan.young.push(pack);
    } else if (now - pack.condemnedAt >= options.graceMs) {
      const condemnedAt = pack.condemnedAt;
      const missedMarker = liveJobs.some((started) => started < condemnedAt + options.skewMs);
      (missedMarker ? plan.blocked : plan.remove).push(pack);
    }
  }
  return plan;
}

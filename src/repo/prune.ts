// Garbage collection that never locks out backups (docs/design.md §11): two phases in
// time — condemn what no snapshot needs, delete it on a later run once no backup that
// could have missed the condemnation is running — plus repacking and index compaction.
import { type Clock, systemClock } from '../util/index.ts';
import { hex } from './crypto/seal.ts';
import { type Marker, readMarkers, shrinkMarker, writeMarker } from './gc-markers.ts';
import type { IndexedPack } from './index-file.ts';
import { acquirePruneLock } from './prune/lock.ts';
import { type PrunePlan, type PrunePolicy, planPrune } from './prune/plan.ts';
import { repack } from './prune/repack.ts';
import { assignUsage, packSizes, usedBlobIds } from './prune/usage.ts';
import { packName, type Repository } from './repository.ts';
import { liveSessions } from './sessions.ts';

export interface PruneOptions {
  maxUnused?: number;
  graceMs?: number;
  skewMs?: number;
  dryRun?: boolean;
  clock?: Clock;
}

export interface PruneResult {
  dryRun: boolean;
  snapshots: number;
  packs: number;
  plan: PrunePlan;
  repackedBlobs: number;
  deletedBytes: number;
  indexFilesCompacted: number;
  liveSessions: number;
}

export const DEFAULT_PRUNE_POLICY: PrunePolicy = {
  maxUnused: 0.05,
  graceMs: 60 * 60 * 1000,
  skewMs: 5 * 60 * 1000,
};
/** More index files than this are merged into one by prune. */
const COMPACT_INDEX_FILES = 8;

export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const clock = options.clock ?? systemClock;
  const policy: PrunePolicy = {
    maxUnused: options.maxUnused ?? DEFAULT_PRUNE_POLICY.maxUnused,
    graceMs: options.graceMs ?? DEFAULT_PRUNE_POLICY.graceMs,
    skewMs: options.skewMs ?? DEFAULT_PRUNE_POLICY.skewMs,
  };
  const release = options.dryRun ? async () => {} : await acquirePruneLock(repo, clock);
  try {
    return await run(repo, policy, clock, options.dryRun === true);
  } finally {
    await release();
  }
}

async function run(
  repo: Repository,
  policy: PrunePolicy,
  clock: Clock,
  dryRun: boolean,
): Promise<PruneResult> {
  // Order matters (design.md §11): markers, sessions, snapshot ids, then the index.
  const markers = await readMarkers(repo);
  const checkedAt = new Date(clock.now());
  const sessions = await liveSessions(repo, checkedAt);
  const snapshotIds = await repo.listFiles('snapshot');
  await repo.loadIndex();
  const files = await repo.readIndexFiles();
  const sizes = await packSizes(repo);
  const packs = files.flatMap((f) => f.file.packs);
  const { used, snapshots } = await usedBlobIds(repo, snapshotIds);
  const condemned = new Set(markers.flatMap((m) => [...m.packs]));
  const usage = assignUsage(packs, used, condemned, sizes);
  const unindexed = new Map([...sizes].filter(([id]) => !usage.has(id)));
  const plan = planPrune({ usage, unindexed, markers, sessions, checkedAt, policy });
  const result: PruneResult = {
    dryRun,
    snapshots,
    packs: sizes.size,
    plan,
    repackedBlobs: 0,
    deletedBytes: plan.remove.reduce((n, id) => n + (sizes.get(id) ?? 0), 0),
    indexFilesCompacted: 0,
    liveSessions: sessions.length,
  };
  if (dryRun) return result;
  if (plan.repack.length > 0) result.repackedBlobs = (await repack(repo, plan.repack, used)).blobs;
  await writeMarker(repo, new Date(clock.now()), [...plan.condemn, ...plan.repack]);
  result.indexFilesCompacted = await removePacks(repo, new Set(plan.remove));
  await settleMarkers(repo, markers, new Set([...plan.remove, ...plan.revive]));
  return result;
}

/**
 * Crash-safe removal: an index without the packs first (superseding every current index
 * file, which also compacts them), then the packs, then the superseded index files.
 */
async function removePacks(repo: Repository, remove: ReadonlySet<string>): Promise<number> {
  // Every index file present is superseded and then deleted, including ones another file
  // already supersedes: if an interrupted prune left such a file, and only its superseder
  // were replaced, nothing would supersede it any more and deleted packs would reappear.
  const present = await repo.listFiles('index');
  const files = await repo.readIndexFiles();
  if (remove.size === 0 && present.length <= COMPACT_INDEX_FILES) return 0;
  const keep: IndexedPack[] = [];
  const seen = new Set<string>();
  for (const pack of files.flatMap((f) => f.file.packs)) {
    const id = hex(pack.id);
    if (remove.has(id) || seen.has(id)) continue;
    seen.add(id);
    keep.push(pack);
  }
  const replaced = [...new Set([...present, ...files.map((f) => f.id)])];
  await repo.saveIndex(
    keep,
    replaced.map((id) => Buffer.from(id, 'hex')),
  );
  for (const id of remove) await repo.store.delete(packName(Buffer.from(id, 'hex')));
  for (const id of replaced) await repo.store.delete(`index/${id}`);
  return replaced.length;
}

async function settleMarkers(
  repo: Repository,
  markers: readonly Marker[],
  drop: ReadonlySet<string>,
): Promise<void> {
  for (const marker of markers) await shrinkMarker(repo, marker, drop);
}

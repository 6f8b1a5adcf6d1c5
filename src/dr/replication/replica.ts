import { NotFoundError } from '../../errors/index.ts';
import { listSnapshots, Repository, type SnapshotRef } from '../../repo/index.ts';
import { prune } from '../../repo/prune.ts';
import { FileStore } from '../../storage/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import { keyPathIn, readKey } from './keys.ts';
import { type Consistency, consistencyOf, DR_TAG } from './protocol.ts';
import { replicaRepoDir, workloadDir } from './replica-server.ts';
import { planRetention, type ReplicaRetention } from './retention.ts';

// The replica side's own work on a workload's repository, with the key the primary
// handed over: list the recovery points, expire them by policy and collect their data
// (the replica owns deletion), report health. Materialising is in ./materialise.ts.

export interface PointInfo {
  id: string;
  time: string;
  consistency: Consistency;
  /** Logical bytes of the workload's data in the point. */
  bytes: number;
}

const busy = new Map<string, Promise<unknown>>();

/**
 * Retention and materialising of one workload take turns in this process (the site
 * agent): a point being materialised must not lose its data to a retention run meanwhile.
 */
export function withReplicaTurn<T>(root: string, workload: string, fn: () => Promise<T>): Promise<T> {
  const key = workloadDir(root, workload);
  const run = (busy.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  busy.set(key, tail);
  void tail.then(() => {
    if (busy.get(key) === tail) busy.delete(key);
  });
  return run;
}

export async function openReplica(root: string, workload: string): Promise<Repository> {
  const key = await readKey(keyPathIn(workloadDir(root, workload)));
  if (key === undefined) {
    throw new NotFoundError('REPLICA_NOT_PAIRED', `this site holds no replica of ${workload} yet`, {
      hint: 'the primary site agent pairs and sends the first point at its first replication cycle',
    });
  }
  return Repository.open(new FileStore(replicaRepoDir(root, workload)), key);
}

export function pointOf(ref: SnapshotRef): PointInfo {
  const { time, tags, stats } = ref.snapshot;
  return { id: ref.id, time, consistency: consistencyOf(tags), bytes: stats.bytesProcessed };
}

/** Every replicated point, oldest first. */
export async function listPoints(repo: Repository): Promise<SnapshotRef[]> {
  return listSnapshots(repo, { tags: [DR_TAG] });
}

export interface RetentionRun {
  kept: { id: string; time: string; reasons: string[] }[];
  removed: { id: string; time: string }[];
  /** Bytes of packs deleted by the collection that followed. */
  deletedBytes: number;
}

export interface RetentionRunOptions {
  /**
   * How long unreferenced data waits before deletion (default 1 h): a cycle the primary
   * is sending meanwhile may still refer to it (design.md §11 sessions and markers).
   */
  graceMs?: number;
  clock?: Clock;
}

/** Expires points by policy (snapshot files first), then collects what nothing needs any more. */
export async function applyReplicaRetention(
  root: string,
  workload: string,
  policy: ReplicaRetention,
  options: RetentionRunOptions = {},
): Promise<RetentionRun> {
  return withReplicaTurn(root, workload, () => retain(root, workload, policy, options));
}

async function retain(
  root: string,
  workload: string,
  policy: ReplicaRetention,
  options: RetentionRunOptions,
): Promise<RetentionRun> {
  const repo = await openReplica(root, workload);
  const { keep, remove } = planRetention(await listPoints(repo), policy);
  for (const { ref } of remove) await repo.store.delete(`snapshots/${ref.id}`);
  const collected = await prune(repo, {
    graceMs: options.graceMs ?? 60 * 60 * 1000,
    clock: options.clock ?? systemClock,
  });
  return {
    kept: keep.map(({ ref, reasons }) => ({ id: ref.id, time: ref.snapshot.time, reasons })),
    removed: remove.map(({ ref }) => ({ id: ref.id, time: ref.snapshot.time })),
    deletedBytes: collected.deletedBytes,
  };
}

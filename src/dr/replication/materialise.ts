import { join } from 'node:path';
import { BadInputError, errnoCode, IntegrityError, NotFoundError } from '../../errors/index.ts';
import { restore, type SnapshotRef } from '../../repo/index.ts';
import { parsePointInTime } from '../../repo/restore/point-in-time.ts';
import { APP_CONSISTENT } from './protocol.ts';
import { listPoints, openReplica, type PointInfo, pointOf, withReplicaTurn } from './replica.ts';
import { cleanFolder, verifyFolder } from './verify.ts';

// A recovery point made real on the replica site: restored into a folder (a test
// failover's own folder while replication goes on, or `/` for the real failover into the
// workload's paths), then verified against the point.

/** 'latest', 'latest-consistent', a time (Date, ISO 8601, or local "YYYY-MM-DD HH:MM"), or a point id. */
export type PointChoice = 'latest' | 'latest-consistent' | Date | string;

export interface MaterialiseOptions {
  /** The replica site's replication root (ReplicaServerOptions.root). */
  root: string;
  workload: string;
  point: PointChoice;
  /** Files land at target + their absolute data path (target '/' puts them in place). */
  target: string;
}

export interface Materialised {
  point: PointInfo;
  /** Each data path of the workload and where its copy now is. */
  paths: { source: string; at: string }[];
  files: number;
  dirs: number;
  bytes: number;
  /** Names inside the data paths that the point does not have, removed. */
  removed: string[];
}

export function choosePoint(points: readonly SnapshotRef[], choice: PointChoice): SnapshotRef {
  const none = (what: string) =>
    new NotFoundError('NO_RECOVERY_POINT', `the replica has no ${what}`, {
      hint: 'wait for the next replication cycle, or choose another point',
    });
  if (choice === 'latest')
    return (
      points.at(-1) ??
      (() => {
        throw none('recovery point');
      })()
    );
  if (choice === 'latest-consistent') {
    const found = points.findLast((p) => p.snapshot.tags.includes(APP_CONSISTENT));
    if (!found) throw none('application-consistent recovery point');
    return found;
  }
  if (typeof choice === 'string' && /^[0-9a-f]{8,64}$/.test(choice)) {
    const matching = points.filter((p) => p.id.startsWith(choice));
    if (matching.length === 1) return matching[0]!;
    if (matching.length > 1)
      throw new BadInputError('AMBIGUOUS_POINT', `${choice} names ${matching.length} points`);
    throw none(`point ${choice}`);
  }
  const at = typeof choice === 'string' ? parsePointInTime(choice) : choice;
  const found = points.findLast((p) => Date.parse(p.snapshot.time) <= at.getTime());
  if (!found) throw none(`recovery point taken at or before ${at.toISOString()}`);
  return found;
}

export function materialise(options: MaterialiseOptions): Promise<Materialised> {
  return withReplicaTurn(options.root, options.workload, () => materialiseNow(options));
}

async function materialiseNow(options: MaterialiseOptions): Promise<Materialised> {
  const repo = await openReplica(options.root, options.workload);
  const ref = choosePoint(await listPoints(repo), options.point);
  await repo.loadIndex();
  const tree = Buffer.from(ref.snapshot.tree, 'hex');
  const removed = await cleanFolder(repo, tree, ref.snapshot.paths, options.target).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return [] as string[]; // a fresh folder: nothing in the way
    throw err;
  });
  const restored = await restore(repo, ref, { target: options.target, overwrite: 'always' });
  if (restored.errors.length > 0) {
    const first = restored.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`);
    throw new IntegrityError(
      'MATERIALISE_FAILED',
      `${restored.errors.length} items of point ${ref.id.slice(0, 12)} could not be restored: ${first.join('; ')}`,
      {
        hint: 'run `offsite check --read-data` on the replica, or choose an older point',
      },
    );
  }
  const check = await verifyFolder(
    repo,
    Buffer.from(ref.snapshot.tree, 'hex'),
    ref.snapshot.paths,
    options.target,
  );
  if (check.mismatches.length > 0) {
    throw new IntegrityError(
      'MATERIALISE_MISMATCH',
      `the folder does not match point ${ref.id.slice(0, 12)}: ${check.mismatches.slice(0, 3).join('; ')}`,
      {
        hint: 'something changed the folder while it was materialised; run it again',
      },
    );
  }
  return {
    point: pointOf(ref),
    paths: ref.snapshot.paths.map((source) => ({ source, at: join(options.target, source) })),
    files: check.files,
    dirs: check.dirs,
    bytes: check.bytes,
    removed,
  };
}

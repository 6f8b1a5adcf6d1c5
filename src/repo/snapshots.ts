import { BadInputError, NotFoundError } from '../errors/index.ts';
import { Semaphore } from '../util/index.ts';
import type { Repository } from './repository.ts';
import { decodeSnapshot, type SnapshotRef } from './snapshot.ts';

export interface SnapshotFilter {
  hostname?: string;
  paths?: string[];
  tags?: string[];
}

function matches(ref: SnapshotRef, filter: SnapshotFilter): boolean {
  const s = ref.snapshot;
  if (filter.hostname !== undefined && s.hostname !== filter.hostname) return false;
  if (
    filter.paths &&
    (filter.paths.length !== s.paths.length || filter.paths.some((p, i) => s.paths[i] !== p))
  ) {
    return false;
  }
  return !filter.tags || filter.tags.every((t) => s.tags.includes(t));
}

/**
 * Every snapshot, oldest first. Each is read and authenticated. One that disappears
 * between the listing and its read was forgotten meanwhile (forget runs beside backups):
 * it is left out, not an error.
 */
export async function listSnapshots(repo: Repository, filter: SnapshotFilter = {}): Promise<SnapshotRef[]> {
  const ids = await repo.listFiles('snapshot');
  const limit = new Semaphore(16);
  const refs = await Promise.all(ids.map((id) => limit.run(() => readIfPresent(repo, id))));
  return refs
    .filter((r): r is SnapshotRef => r !== undefined && matches(r, filter))
    .sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
}

async function readIfPresent(repo: Repository, id: string): Promise<SnapshotRef | undefined> {
  try {
    return { id, snapshot: decodeSnapshot(await repo.loadFile('snapshot', id), `snapshots/${id}`) };
  } catch (err) {
    if (err instanceof NotFoundError && err.code === 'OBJECT_NOT_FOUND') return undefined;
    throw err;
  }
}

/** "latest" or a unique prefix (at least 4 hex digits) of a snapshot id. */
export async function findSnapshot(
  repo: Repository,
  ref: string,
  filter: SnapshotFilter = {},
): Promise<SnapshotRef> {
  if (ref === 'latest') {
    const all = await listSnapshots(repo, filter);
    const latest = all.at(-1);
    if (!latest)
      throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'the repository has no snapshot (matching the filter)');
    return latest;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) {
    throw new BadInputError('BAD_SNAPSHOT_ID', `"${ref}" is not a snapshot id`, {
      hint: 'use "latest" or an id shown by `offsite snapshots`',
    });
  }
  const candidates = (await repo.listFiles('snapshot')).filter((id) => id.startsWith(ref));
  if (candidates.length === 0)
    throw new NotFoundError('SNAPSHOT_NOT_FOUND', `no snapshot has an id starting with ${ref}`);
  if (candidates.length > 1)
    throw new BadInputError(
      'AMBIGUOUS_SNAPSHOT_ID',
      `${ref} matches ${candidates.length} snapshots; give more digits`,
    );
  const id = candidates[0]!;
  return { id, snapshot: decodeSnapshot(await repo.loadFile('snapshot', id), `snapshots/${id}`) };
}

/** The snapshot an incremental backup compares against: same host, same paths. */
export async function findParent(
  repo: Repository,
  hostname: string,
  paths: string[],
): Promise<SnapshotRef | undefined> {
  return (await listSnapshots(repo, { hostname, paths: [...paths].sort() })).at(-1);
}

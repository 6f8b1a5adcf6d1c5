import { BadInputError, ConflictError, isOffsiteError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { Catalog, JsonObject, PackRow, PointRow, ServerRow, VaultRow } from './catalog/index.ts';
import { repoStore } from './layout.ts';
import { savePointRecord } from './records.ts';

// Committing a recovery point (DESIGN.md §4 "Data path"): after the agent stored its
// snapshot, it names the snapshot and every pack the snapshot needs. The vault checks
// that they are all in storage, then records the point with its packs as a bitmap and
// writes the point's record beside the repository. Only then is the backup "completed"
// (invariant 4). Committing the same snapshot again returns the same point, so an agent
// whose answer was lost can simply retry.

const HEX64 = /^[0-9a-f]{64}$/;
/** 16 MiB packs: a million packs is 16 TiB in one recovery point. */
const MAX_PACKS = 1_000_000;

export interface CommitInput {
  snapshot: string;
  time: number;
  stats: JsonObject;
  packs: string[];
}

export function parseCommit(body: unknown): CommitInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const hint = 'send {snapshot, time, stats, packs}: the snapshot id, its ISO time, statistics and pack ids';
  if (typeof b.snapshot !== 'string' || !HEX64.test(b.snapshot)) {
    throw new BadInputError('BAD_FIELD', 'snapshot: 64 lowercase hex digits', { hint });
  }
  const time = typeof b.time === 'string' ? Date.parse(b.time) : Number.NaN;
  if (!Number.isFinite(time)) throw new BadInputError('BAD_FIELD', 'time: an ISO 8601 time', { hint });
  if (typeof b.stats !== 'object' || b.stats === null || Array.isArray(b.stats)) {
    throw new BadInputError('BAD_FIELD', 'stats: an object', { hint });
  }
  const packs = b.packs;
  if (
    !Array.isArray(packs) ||
    packs.length > MAX_PACKS ||
    !packs.every((p) => typeof p === 'string' && HEX64.test(p))
  ) {
    throw new BadInputError('BAD_FIELD', `packs: at most ${MAX_PACKS} pack ids of 64 hex digits`, { hint });
  }
  return { snapshot: b.snapshot, time, stats: b.stats as JsonObject, packs: [...new Set(packs as string[])] };
}

export function packObjectName(id: string): string {
  return `data/${id.slice(0, 2)}/${id}`;
}

/** The live catalog row of each pack, recording ones that are in storage but were never recorded. */
async function packRows(catalog: Catalog, store: BlobStore, server: ServerRow, ids: string[], now: number) {
  const known = new Map<string, PackRow>();
  for (const row of await catalog.listPacks(server.id)) known.set(row.name, row);
  const rows: PackRow[] = [];
  for (const id of ids) {
    let row = known.get(id);
    if (!row) {
      const info = await store.head(packObjectName(id));
      if (info === null) {
        const deleted = await catalog.findPack(server.id, id);
        if (deleted) {
          throw new ConflictError('PACK_DELETED', `pack ${id} was garbage-collected while the backup ran`, {
            hint: 'run the backup again: it stores the data that pack held anew',
          });
        }
        throw new BadInputError('PACK_NOT_STORED', `pack ${id} is not in the vault`, {
          hint: 'upload every pack before committing the recovery point',
        });
      }
      row = await catalog.recordPack({ serverId: server.id, name: id, size: info.size, createdAt: now });
    }
    rows.push(row);
  }
  return rows;
}

async function existingPoint(
  catalog: Catalog,
  serverId: string,
  snapshot: string,
): Promise<PointRow | undefined> {
  const points = await catalog.listPoints(serverId, { state: 'all' });
  return points.find((p) => p.snapshotName === snapshot);
}

export async function commitRecoveryPoint(
  catalog: Catalog,
  region: BlobStore,
  agent: { server: ServerRow; vault: VaultRow },
  input: CommitInput,
  now: number,
): Promise<PointRow> {
  const { server, vault } = agent;
  const store = repoStore(region, vault.id, server.id);
  if ((await store.head(`snapshots/${input.snapshot}`)) === null) {
    throw new BadInputError('SNAPSHOT_NOT_STORED', `snapshot ${input.snapshot} is not in the vault`, {
      hint: 'store the snapshot before committing it',
    });
  }
  let point = await existingPoint(catalog, server.id, input.snapshot);
  if (!point) {
    const rows = await packRows(catalog, store, server, input.packs, now);
    const condemned = rows.filter((r) => r.condemnedAt !== null).map((r) => r.seq);
    try {
      point = await catalog.transaction(async (tx) => {
        // A backup that started before garbage collection condemned a pack may still use
        // it: the commit makes the pack live again.
        if (condemned.length > 0) await tx.uncondemnPacks(server.id, condemned);
        return tx.commitPoint({
          serverId: server.id,
          snapshotName: input.snapshot,
          time: input.time,
          stats: input.stats,
          packSeqs: rows.map((r) => r.seq),
          committedAt: now,
        });
      });
    } catch (err) {
      if (isOffsiteError(err) && err.code === 'POINT_EXISTS')
        point = await existingPoint(catalog, server.id, input.snapshot);
      if (!point) throw err;
    }
  }
  await savePointRecord(region, point, input.packs).catch((err: unknown) => {
    if (!(isOffsiteError(err) && err.code === 'OBJECT_EXISTS')) throw err;
  });
  return point;
}

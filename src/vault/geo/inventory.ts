import type { BlobStore } from '../../storage/index.ts';
import { bitmap, type Catalog, type PackRow, type PointRow, type VaultRow } from '../catalog/index.ts';
import { PACK_ID } from '../gc/index.ts';
import { repoStore } from '../layout.ts';
import { lastStatus } from './replicate.ts';

// What a vault's secondary region holds of what the catalog says the vault has, read from
// the secondary alone (the primary may be gone): the packs the catalog has live, and for
// each recovery point not deleted, its snapshot object and every pack it references. The
// last replication cycle adds what it could not copy (indexes, keys and the like, which
// the catalog does not know).

export interface ServerShortfall {
  serverId: string;
  /** Live packs absent from the secondary (or there with another size). */
  packs: PackRow[];
  /** Points not deleted whose snapshot object or some pack is absent. */
  points: PointRow[];
}

export interface SecondaryInventory {
  secondaryRegion: string;
  missingPacks: number;
  missingPackBytes: number;
  missingPoints: number;
  /** What the last replication cycle left uncopied (it may count some of the packs above). */
  lastCyclePending: number;
  /** When the last complete comparison listed the primary; null: never compared. */
  lastComparedAt: number | null;
  servers: ServerShortfall[];
  /** Nothing is missing and the last cycle left nothing behind. */
  caughtUp: boolean;
}

async function storedPacks(repo: BlobStore): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  for await (const object of repo.list('data/')) {
    const id = object.name.slice(object.name.lastIndexOf('/') + 1);
    if (PACK_ID.test(id)) stored.set(id, object.size);
  }
  return stored;
}

async function storedSnapshots(repo: BlobStore): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const object of repo.list('snapshots/')) names.add(object.name.slice('snapshots/'.length));
  return names;
}

async function serverShortfall(
  catalog: Catalog,
  secondary: BlobStore,
  vault: VaultRow,
  serverId: string,
): Promise<ServerShortfall> {
  const repo = repoStore(secondary, vault.id, serverId);
  const [stored, snapshots] = [await storedPacks(repo), await storedSnapshots(repo)];
  const packs = await catalog.listPacks(serverId);
  const missing = packs.filter((p) => stored.get(p.name) !== p.size);
  const missingSeqs = new Set(missing.map((p) => p.seq));
  const points: PointRow[] = [];
  for (const point of await catalog.listPoints(serverId, { state: 'all' })) {
    if (point.deletedAt !== null) continue;
    let lost = !snapshots.has(point.snapshotName);
    if (!lost && missingSeqs.size > 0) {
      const refs = await catalog.getPointPacks(point.id);
      lost = [...missingSeqs].some((seq) => bitmap.has(refs, seq));
    }
    if (lost) points.push(point);
  }
  return { serverId, packs: missing, points };
}

/** Lists the secondary (never the primary) and compares it with the catalog. */
export async function inventorySecondary(
  catalog: Catalog,
  vault: VaultRow,
  secondary: BlobStore,
): Promise<SecondaryInventory> {
  if (vault.secondaryRegion === null) throw new Error(`vault ${vault.name} has no secondary region`);
  const servers: ServerShortfall[] = [];
  for (const server of await catalog.listServers(vault.id)) {
    servers.push(await serverShortfall(catalog, secondary, vault, server.id));
  }
  const status = await lastStatus(catalog, vault);
  const lastComparedAt = status && status.listedAt > 0 ? status.listedAt : null;
  const missingPacks = servers.reduce((n, s) => n + s.packs.length, 0);
  const missingPoints = servers.reduce((n, s) => n + s.points.length, 0);
  const lastCyclePending = status?.pendingObjects ?? 0;
  const neverCompared = lastComparedAt === null && servers.length > 0;
  return {
    secondaryRegion: vault.secondaryRegion,
    missingPacks,
    missingPackBytes: servers.reduce((n, s) => n + s.packs.reduce((b, p) => b + p.size, 0), 0),
    missingPoints,
    lastCyclePending,
    lastComparedAt,
    servers,
    caughtUp: missingPacks === 0 && missingPoints === 0 && lastCyclePending === 0 && !neverCompared,
  };
}

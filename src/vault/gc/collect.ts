import type { BlobStore } from '../../storage/index.ts';
import { bitmap, type Catalog, type PackRow, type ServerRow, type VaultRow } from '../catalog/index.ts';
import { repoStore } from '../layout.ts';
import { packObjectName } from '../points.ts';
import { PACK_ID, syncVaultMarker } from './markers.ts';
import { DEFAULT_GC_OPTIONS, type GcOptions, type GcPlan, planGc } from './plan.ts';

// One garbage-collection run over one server's repository (docs/design.md §15). Order
// of writes, each step safe to stop after:
//   uncondemn (catalog) → marker listing what is condemned now → condemn (catalog) →
//   mark deleted (catalog, in a transaction that checks again that nothing references
//   them — a commit that references a deleted pack is refused) → delete the objects.
// The marker exists before the catalog starts a pack's grace period, and an object is
// deleted only once the catalog says so; a run that stopped halfway is finished by the
// next, which deletes every object of a deleted pack it still finds.

export interface GcResult {
  serverId: string;
  condemned: number;
  uncondemned: number;
  deleted: number;
  deletedBytes: number;
  blocked: number;
  young: number;
  markerRewritten: boolean;
}

const seqs = (packs: readonly PackRow[]) => packs.map((p) => p.seq);

export async function collectVaultGarbage(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  now: number,
  options: GcOptions = DEFAULT_GC_OPTIONS,
): Promise<GcResult[]> {
  const results: GcResult[] = [];
  for (const server of await catalog.listServers(vault.id)) {
    results.push(await collectServerGarbage(catalog, region, vault, server, now, options));
  }
  return results;
}

export async function collectServerGarbage(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  server: ServerRow,
  now: number,
  options: GcOptions = DEFAULT_GC_OPTIONS,
): Promise<GcResult> {
  const repo = repoStore(region, vault.id, server.id);
  const stored = await storedPacks(repo);
  const all = await catalog.listPacks(server.id, { includeDeleted: true });
  const packs = all.filter((p) => p.deletedAt === null);
  const retained = await catalog.retainedPackBitmap(server.id);
  const jobs = await catalog.listJobs(vault.id, { serverId: server.id });
  const plan = planGc({
    packs,
    retained,
    everReferenced: await everReferenced(catalog, server.id, packs, retained, now, options),
    runningJobs: jobs.filter((j) => j.status === 'running').map((j) => j.startedAt),
    now,
    options,
  });
  if (plan.uncondemn.length > 0) await catalog.uncondemnPacks(server.id, seqs(plan.uncondemn));
  const markerRewritten = await syncVaultMarker(
    repo,
    { ...markedPacks(all, plan), stored: new Set(stored.keys()) },
    now,
  );
  if (plan.condemn.length > 0) await catalog.condemnPacks(server.id, seqs(plan.condemn), now);
  const deleted = await markDeleted(catalog, server.id, plan.remove, now);
  const deletedBytes = await deleteObjects(catalog, repo, server.id, stored);
  return {
    serverId: server.id,
    condemned: plan.condemn.length,
    uncondemned: plan.uncondemn.length,
    deleted: deleted.length,
    deletedBytes,
    blocked: plan.blocked.length,
    young: plan.young.length,
    markerRewritten,
  };
}

/**
 * Which of the young unreferenced packs some point ever referenced. Only points committed
 * after the oldest such pack was recorded can have (a commit refuses packs not yet
 * recorded), so this reads few bitmaps however long the history is.
 */
async function everReferenced(
  catalog: Catalog,
  serverId: string,
  packs: readonly PackRow[],
  retained: Uint8Array,
  now: number,
  options: GcOptions,
): Promise<Set<number>> {
  const young = packs.filter(
    (p) =>
      p.condemnedAt === null && !bitmap.has(retained, p.seq) && now - p.createdAt < options.unreferencedAgeMs,
  );
  const found = new Set<number>();
  if (young.length === 0) return found;
  const since = Math.min(...young.map((p) => p.createdAt));
  for (const point of await catalog.listPoints(serverId, { state: 'all' })) {
    if (point.committedAt < since) continue;
    const refs = await catalog.getPointPacks(point.id);
    for (const pack of young) if (bitmap.has(refs, pack.seq)) found.add(pack.seq);
  }
  return found;
}

/** Pack objects in data/ (only names that are pack names), by id, with their sizes. */
async function storedPacks(repo: BlobStore): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  for await (const object of repo.list('data/')) {
    const id = object.name.slice(object.name.lastIndexOf('/') + 1);
    if (PACK_ID.test(id) && object.name === packObjectName(id)) stored.set(id, object.size);
  }
  return stored;
}

/** Condemned and deleted packs once the plan is applied, and live ones; a live name wins. */
function markedPacks(all: readonly PackRow[], plan: GcPlan): { packs: Set<string>; live: Set<string> } {
  const revived = new Set(seqs(plan.uncondemn));
  const condemnNow = new Set(seqs(plan.condemn));
  const marked = new Set<string>();
  const live = new Set<string>();
  for (const pack of all) {
    const wasCondemned = pack.condemnedAt !== null && !revived.has(pack.seq);
    const gone = pack.deletedAt !== null || wasCondemned || condemnNow.has(pack.seq);
    (gone ? marked : live).add(pack.name);
  }
  for (const name of live) marked.delete(name);
  return { packs: new Set([...marked].filter((name) => PACK_ID.test(name))), live };
}

/** Marks deleted, in one transaction, the candidates that are still condemned and unreferenced. */
async function markDeleted(catalog: Catalog, serverId: string, candidates: readonly PackRow[], now: number) {
  if (candidates.length === 0) return [];
  return catalog.transaction(async (tx) => {
    const retained = await tx.retainedPackBitmap(serverId);
    const current = new Map((await tx.listPacks(serverId)).map((p) => [p.seq, p]));
    const sure = candidates.filter(
      (p) => !bitmap.has(retained, p.seq) && current.get(p.seq)?.condemnedAt != null,
    );
    if (sure.length > 0) await tx.markPacksDeleted(serverId, seqs(sure), now);
    return sure;
  });
}

/** Deletes every pack object the catalog has deleted (and no live row names); returns the bytes. */
async function deleteObjects(
  catalog: Catalog,
  repo: BlobStore,
  serverId: string,
  stored: ReadonlyMap<string, number>,
): Promise<number> {
  const all = await catalog.listPacks(serverId, { includeDeleted: true });
  const live = new Set(all.filter((p) => p.deletedAt === null).map((p) => p.name));
  const gone = new Set(all.filter((p) => p.deletedAt !== null && !live.has(p.name)).map((p) => p.name));
  let bytes = 0;
  for (const name of gone) {
    const size = stored.get(name);
    if (size === undefined) continue;
    await repo.delete(packObjectName(name));
    bytes += size;
  }
  return bytes;
}

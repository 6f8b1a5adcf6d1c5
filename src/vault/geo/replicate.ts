import { createHash } from 'node:crypto';
import { ConflictError, IntegrityError, isOffsiteError, NotFoundError } from '../../errors/index.ts';
import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, ReplicationStatusRow, VaultRow } from '../catalog/index.ts';
import { serverPrefix, vaultRecordPrefix } from '../layout.ts';

// One replication cycle of a vault: everything under its prefix in the primary region is
// copied to the secondary, and what the primary no longer holds is deleted there, so the
// secondary converges to the primary. Each cycle compares the two listings, part by part
// (the vault's records, then each server): listings are the one complete account of what
// exists (the catalog knows packs and points, not indexes, snapshots, keys or markers), so
// a lost copy, a wiped secondary or a new one converge without bookkeeping, and memory
// holds one server's names at a time. Copies go in dependency order (keys and config,
// packs, indexes, snapshots, then the vault's records), so at every moment the secondary
// is a consistent repository: a snapshot is there only once its packs are.

const PACK = /\/servers\/[^/]+\/repo\/data\/([0-9a-f]{2})\/(\1[0-9a-f]{62})$/;
const MAX_PROBLEMS = 20;

export interface ReplicationOptions {
  /** Copies in flight at once (default 4). */
  concurrency?: number;
}

interface Item {
  name: string;
  size: number;
  /** The secondary holds another size under this name: a broken copy, replaced. */
  replace: boolean;
}

/** What one cycle did and found. */
interface Cycle {
  vault: VaultRow;
  primary: BlobStore;
  secondary: BlobStore;
  catalog: Catalog;
  concurrency: number;
  copiedObjects: number;
  copiedBytes: number;
  deletedObjects: number;
  failed: Item[];
  problems: string[];
  /** Every part was listed on both sides and compared. */
  complete: boolean;
}

function problem(cycle: Cycle, text: string): void {
  if (cycle.problems.length < MAX_PROBLEMS) cycle.problems.push(text);
  else if (cycle.problems.length === MAX_PROBLEMS) cycle.problems.push('(more problems not listed)');
}

function messageOf(err: unknown): string {
  return isOffsiteError(err) ? `${err.code}: ${err.message}` : String(err);
}

/** Keys and config first, then packs, indexes, snapshots, and the records that describe them. */
function rank(name: string): number {
  const inRepo = /\/repo\/(.*)$/.exec(name)?.[1];
  if (inRepo === undefined) return 4;
  if (inRepo.startsWith('data/')) return 1;
  if (inRepo.startsWith('index/')) return 2;
  if (inRepo.startsWith('snapshots/')) return 3;
  return 0;
}

async function copyOne(cycle: Cycle, item: Item): Promise<boolean> {
  let data: Buffer;
  try {
    data = await cycle.primary.get(item.name);
  } catch (err) {
    if (err instanceof NotFoundError) return false; // deleted since the listing
    throw err;
  }
  if (data.length !== item.size) {
    throw new IntegrityError(
      'REPLICA_SIZE_MISMATCH',
      `the primary listed ${item.size} bytes but gave ${data.length}`,
    );
  }
  const packId = PACK.exec(item.name)?.[2];
  if (packId && createHash('sha256').update(data).digest('hex') !== packId) {
    throw new IntegrityError(
      'PACK_HASH_MISMATCH',
      'the pack in the primary does not hash to its name: not copied',
      {
        hint: "run `offsite check` on the server's repository",
      },
    );
  }
  if (item.replace) await cycle.secondary.delete(item.name);
  try {
    await cycle.secondary.put(item.name, data);
  } catch (err) {
    // Another vault server's cycle copied it meanwhile: the size check below decides.
    if (!(err instanceof ConflictError && err.code === 'OBJECT_EXISTS')) throw err;
  }
  const copied = await cycle.secondary.head(item.name);
  if (copied?.size !== data.length) {
    throw new IntegrityError(
      'REPLICA_SIZE_MISMATCH',
      `the secondary holds ${copied === null ? 'nothing' : `${copied.size} bytes`} after the copy, not ${data.length}`,
    );
  }
  cycle.copiedObjects++;
  cycle.copiedBytes += data.length;
  return true;
}

/** Copies the items a few at a time, rank by rank; a failed copy is noted and the rest go on. */
async function copyAll(cycle: Cycle, items: Item[]): Promise<void> {
  const ranks = [...new Set(items.map((i) => rank(i.name)))].sort((a, b) => a - b);
  for (const r of ranks) {
    const queue = items.filter((i) => rank(i.name) === r);
    let next = 0;
    const worker = async () => {
      for (let item = queue[next++]; item; item = queue[next++]) {
        try {
          await copyOne(cycle, item);
        } catch (err) {
          if (!isOffsiteError(err)) throw err;
          cycle.failed.push(item);
          problem(cycle, `copy of ${item.name}: ${messageOf(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: cycle.concurrency }, worker));
  }
}

/**
 * Deletes what only the secondary holds. A pack goes only when the catalog has it deleted
 * (garbage collection): a live pack the primary lost is kept, the copy to repair it from.
 */
async function deleteStale(cycle: Cycle, serverId: string | null, names: string[]): Promise<void> {
  for (const name of names) {
    const packId = PACK.exec(name)?.[2];
    if (packId && serverId !== null) {
      const row = await cycle.catalog.findPack(serverId, packId);
      if (!row || row.deletedAt === null) {
        problem(
          cycle,
          `${name} is missing from the primary but not deleted by the vault: kept in the secondary`,
        );
        continue;
      }
    }
    try {
      await cycle.secondary.delete(name);
      cycle.deletedObjects++;
    } catch (err) {
      if (!isOffsiteError(err)) throw err;
      problem(cycle, `delete of ${name} from the secondary: ${messageOf(err)}`);
    }
  }
}

/** One part of the vault: list both sides, copy what the secondary lacks, delete what it alone holds. */
async function replicatePart(cycle: Cycle, prefix: string, serverId: string | null): Promise<void> {
  const onSecondary = new Map<string, number>();
  for await (const o of cycle.secondary.list(prefix)) onSecondary.set(o.name, o.size);
  const toCopy: Item[] = [];
  let onPrimary = 0;
  for await (const o of cycle.primary.list(prefix)) {
    onPrimary++;
    const size = onSecondary.get(o.name);
    onSecondary.delete(o.name);
    if (size !== o.size) toCopy.push({ name: o.name, size: o.size, replace: size !== undefined });
  }
  await copyAll(cycle, toCopy);
  if (onSecondary.size > 0 && onPrimary === 0) {
    // An emptied primary (or a region URL pointing at a new, empty place) must not empty the copy.
    problem(
      cycle,
      `the primary holds nothing under ${prefix}: the secondary's ${onSecondary.size} objects are kept`,
    );
    return;
  }
  await deleteStale(cycle, serverId, [...onSecondary.keys()]);
}

/** When the oldest of the objects still missing was written: a pack's record time, else when first found missing. */
async function oldestPending(cycle: Cycle, listedAt: number, previous: ReplicationStatusRow | undefined) {
  if (cycle.failed.length === 0) return null;
  let oldest = previous && previous.pendingObjects > 0 ? (previous.oldestPendingAt ?? listedAt) : listedAt;
  const servers = await cycle.catalog.listServers(cycle.vault.id);
  for (const item of cycle.failed) {
    const packId = PACK.exec(item.name)?.[2];
    const server = servers.find((s) => item.name.startsWith(serverPrefix(s.vaultId, s.id)));
    const row = packId && server ? await cycle.catalog.findPack(server.id, packId) : undefined;
    if (row) oldest = Math.min(oldest, row.createdAt);
  }
  return oldest;
}

function newCycle(
  catalog: Catalog,
  vault: VaultRow,
  primary: BlobStore,
  secondary: BlobStore,
  concurrency = 4,
): Cycle {
  const counts = { copiedObjects: 0, copiedBytes: 0, deletedObjects: 0 };
  return {
    vault,
    primary,
    secondary,
    catalog,
    concurrency,
    ...counts,
    failed: [],
    problems: [],
    complete: true,
  };
}

export interface ReplicationRun {
  status: ReplicationStatusRow;
  /** Every part was listed on both sides and compared. */
  complete: boolean;
}

/**
 * One cycle for a vault with a secondary region; saves its status. A part
 * whose listing fails leaves the cycle incomplete: the status then keeps the last complete
 * comparison (listedAt 0 when there was none) and says what failed.
 */
export async function replicateVault(
  catalog: Catalog,
  vault: VaultRow,
  stores: { primary: BlobStore; secondary: BlobStore },
  now: () => number,
  options: ReplicationOptions = {},
): Promise<ReplicationRun> {
  if (vault.secondaryRegion === null) throw new Error(`vault ${vault.name} has no secondary region`);
  const previous = await lastStatus(catalog, vault);
  const listedAt = now();
  const cycle = newCycle(catalog, vault, stores.primary, stores.secondary, options.concurrency);
  const parts: [string, string | null][] = [[vaultRecordPrefix(vault.id), null]];
  for (const s of await catalog.listServers(vault.id)) parts.push([serverPrefix(vault.id, s.id), s.id]);
  for (const [prefix, serverId] of parts) {
    try {
      await replicatePart(cycle, prefix, serverId);
    } catch (err) {
      if (!isOffsiteError(err)) throw err;
      cycle.complete = false;
      problem(cycle, `listing ${prefix}: ${messageOf(err)}`);
    }
  }
  const done = {
    finishedAt: now(),
    copiedObjects: cycle.copiedObjects,
    copiedBytes: cycle.copiedBytes,
    deletedObjects: cycle.deletedObjects,
    problems: cycle.problems,
  };
  if (!cycle.complete) {
    const status = await catalog.saveReplicationStatus({ ...incompleteBase(vault, previous), ...done });
    return { status, complete: false };
  }
  const pendingObjects = cycle.failed.length;
  const status = await catalog.saveReplicationStatus({
    vaultId: vault.id,
    secondaryRegion: vault.secondaryRegion,
    listedAt,
    ...done,
    pendingObjects,
    pendingBytes: cycle.failed.reduce((sum, i) => sum + i.size, 0),
    oldestPendingAt: await oldestPending(cycle, listedAt, previous),
    syncedAt: pendingObjects === 0 ? listedAt : (previous?.syncedAt ?? null),
  });
  return { status, complete: true };
}

/** The vault's saved status, unless it is about another secondary than the vault's now. */
export async function lastStatus(
  catalog: Catalog,
  vault: VaultRow,
): Promise<ReplicationStatusRow | undefined> {
  const row = await catalog.findReplicationStatus(vault.id);
  return row && row.secondaryRegion === vault.secondaryRegion ? row : undefined;
}

/** What an incomplete cycle keeps: the last complete comparison, or "never compared". */
export function incompleteBase(vault: VaultRow, previous: ReplicationStatusRow | undefined) {
  return {
    vaultId: vault.id,
    secondaryRegion: vault.secondaryRegion ?? '',
    listedAt: previous?.listedAt ?? 0,
    pendingObjects: previous?.pendingObjects ?? 0,
    pendingBytes: previous?.pendingBytes ?? 0,
    oldestPendingAt: previous?.oldestPendingAt ?? null,
    syncedAt: previous?.syncedAt ?? null,
  };
}

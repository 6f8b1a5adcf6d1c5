import type { BlobStore } from '../../storage/index.ts';
import {
  bitmap,
  type Catalog,
  type PackRow,
  type PointRow,
  type ServerRow,
  type VaultRow,
} from '../catalog/index.ts';
import { serverPrefix, vaultPrefix } from '../layout.ts';
import { pointAsSnapshot } from '../retention/expire.ts';
import { addBreakdowns, type Breakdown, emptyBreakdown } from './breakdown.ts';

// "How much am I using, and why" (DESIGN.md §4). Stored bytes are exactly the bytes of the
// objects under the vault's prefix, listed now; the breakdown sorts each pack object by
// the points that hold it, using the catalog's pack rows and bitmaps.

export interface PointUsage {
  id: string;
  serverId: string;
  time: number;
  state: 'active' | 'soft-deleted';
  /** Logical size of the files in the point (stats.bytesProcessed). */
  protectedBytes: number;
  /** What the point added to storage, after dedup, compression and encryption. */
  addedBytes: number;
  /** Bytes of the packs no other point holds: freed if this point alone went. */
  uniqueBytes: number;
  packs: number;
}

export interface ServerUsage {
  serverId: string;
  server: string;
  protectedBytes: number;
  storedBytes: number;
  breakdown: Breakdown;
  /** Newest first; deleted points hold nothing and are left out. */
  points: PointUsage[];
}

export interface VaultUsage {
  vaultId: string;
  vault: string;
  at: number;
  protectedBytes: number;
  storedBytes: number;
  breakdown: Breakdown;
  servers: ServerUsage[];
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Every object under the vault's prefix, by name (relative to the prefix), with sizes. */
async function listVault(region: BlobStore, vaultId: string): Promise<Map<string, number>> {
  const prefix = vaultPrefix(vaultId);
  const objects = new Map<string, number>();
  for await (const o of region.list(prefix)) objects.set(o.name.slice(prefix.length), o.size);
  return objects;
}

export async function computeUsage(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  now: number,
): Promise<VaultUsage> {
  const objects = await listVault(region, vault.id);
  const servers: ServerUsage[] = [];
  const claimed = new Set<string>();
  for (const server of await catalog.listServers(vault.id)) {
    const prefix = serverPrefix(vault.id, server.id).slice(vaultPrefix(vault.id).length);
    const own = new Map([...objects].filter(([name]) => name.startsWith(prefix)));
    for (const name of own.keys()) claimed.add(name);
    servers.push(await serverUsage(catalog, server, own, prefix));
  }
  const breakdown = addBreakdowns(servers.map((s) => s.breakdown));
  // The vault's own records, and anything of a server the catalog no longer knows.
  for (const [name, size] of objects) {
    if (claimed.has(name)) continue;
    if (/^servers\/[^/]+\/repo\/data\//.test(name)) {
      breakdown.dataBytes += size;
      breakdown.unreferencedBytes += size;
    } else breakdown.metadataBytes += size;
  }
  return {
    vaultId: vault.id,
    vault: vault.name,
    at: now,
    protectedBytes: servers.reduce((n, s) => n + s.protectedBytes, 0),
    storedBytes: [...objects.values()].reduce((n, size) => n + size, 0),
    breakdown,
    servers,
  };
}

/** The newest active point of each backup set (host and paths), as retention groups them. */
function latestPoints(active: readonly PointRow[]): PointRow[] {
  const latest = new Map<string, PointRow>();
  for (const point of active) {
    const { hostname, paths } = pointAsSnapshot(point).snapshot;
    const key = JSON.stringify([hostname, [...paths].sort()]);
    const known = latest.get(key);
    if (!known || point.time > known.time) latest.set(key, point);
  }
  return [...latest.values()];
}

interface Held {
  point: PointRow;
  seqs: number[];
}

async function serverUsage(
  catalog: Catalog,
  server: ServerRow,
  objects: ReadonlyMap<string, number>,
  prefix: string,
): Promise<ServerUsage> {
  const points = await catalog.listPoints(server.id, { state: 'all' });
  const held: Held[] = [];
  for (const point of points.filter((p) => p.deletedAt === null)) {
    held.push({ point, seqs: bitmap.decode(await catalog.getPointPacks(point.id)) });
  }
  const active = held.filter((h) => h.point.softDeletedAt === null);
  const latest = latestPoints(active.map((h) => h.point));
  const packs = await catalog.listPacks(server.id, { includeDeleted: true });
  const sizes = packSizes(objects, prefix, packs);
  const breakdown = emptyBreakdown();
  for (const [name, size] of objects) {
    if (name.startsWith(`${prefix}repo/data/`)) breakdown.dataBytes += size;
    else breakdown.metadataBytes += size;
  }
  sortData(breakdown, objects, prefix, packs, held, new Set(latest.map((p) => p.id)));
  addSavings(breakdown, held);
  return {
    serverId: server.id,
    server: server.name,
    protectedBytes: latest.reduce((n, p) => n + num(p.stats.bytesProcessed), 0),
    storedBytes: [...objects.values()].reduce((n, size) => n + size, 0),
    breakdown,
    points: pointUsages(held, sizes),
  };
}

/** Stored size of each pack the catalog knows, by sequence number (0 when its object is gone). */
function packSizes(objects: ReadonlyMap<string, number>, prefix: string, packs: readonly PackRow[]) {
  const sizes = new Map<number, number>();
  for (const pack of packs) {
    if (pack.deletedAt !== null) continue;
    sizes.set(pack.seq, objects.get(`${prefix}repo/data/${pack.name.slice(0, 2)}/${pack.name}`) ?? 0);
  }
  return sizes;
}

/** Each pack object goes to exactly one share of dataBytes, so the shares add up to it. */
function sortData(
  b: Breakdown,
  objects: ReadonlyMap<string, number>,
  prefix: string,
  packs: readonly PackRow[],
  held: readonly Held[],
  latestIds: ReadonlySet<string>,
): void {
  const latest = new Set<number>();
  const active = new Set<number>();
  const soft = new Set<number>();
  for (const h of held) {
    const into = latestIds.has(h.point.id) ? latest : h.point.softDeletedAt === null ? active : soft;
    for (const seq of h.seqs) into.add(seq);
  }
  const byName = new Map<string, PackRow>();
  for (const pack of packs)
    if (!byName.has(pack.name) || pack.deletedAt === null) byName.set(pack.name, pack);
  for (const [name, size] of objects) {
    if (!name.startsWith(`${prefix}repo/data/`)) continue;
    const pack = byName.get(name.slice(name.lastIndexOf('/') + 1));
    if (!pack) b.unreferencedBytes += size;
    else if (pack.deletedAt === null && latest.has(pack.seq)) b.latestBytes += size;
    else if (pack.deletedAt === null && active.has(pack.seq)) b.olderPointsBytes += size;
    else if (pack.deletedAt === null && soft.has(pack.seq)) b.softDeletedBytes += size;
    else if (pack.deletedAt !== null || pack.condemnedAt !== null) b.garbageBytes += size;
    else b.unreferencedBytes += size;
  }
}

/** Compression and dedup as the retained points' statistics tell them. */
function addSavings(b: Breakdown, held: readonly Held[]): void {
  for (const { point } of held) {
    b.compression.rawBytes += num(point.stats.bytesAddedRaw);
    b.compression.storedBytes += num(point.stats.bytesAddedStored);
    b.dedup.logicalBytes += num(point.stats.bytesProcessed);
    b.dedup.addedBytes += num(point.stats.bytesAddedRaw);
  }
  b.compression.savedBytes = b.compression.rawBytes - b.compression.storedBytes;
  b.dedup.savedBytes = Math.max(0, b.dedup.logicalBytes - b.dedup.addedBytes);
}

function pointUsages(held: readonly Held[], sizes: ReadonlyMap<number, number>): PointUsage[] {
  const holders = new Map<number, number>();
  for (const h of held) for (const seq of h.seqs) holders.set(seq, (holders.get(seq) ?? 0) + 1);
  return held.map(({ point, seqs }) => ({
    id: point.id,
    serverId: point.serverId,
    time: point.time,
    state: point.softDeletedAt === null ? 'active' : 'soft-deleted',
    protectedBytes: num(point.stats.bytesProcessed),
    addedBytes: num(point.stats.bytesAddedStored),
    uniqueBytes: seqs
      .filter((seq) => holders.get(seq) === 1)
      .reduce((n, seq) => n + (sizes.get(seq) ?? 0), 0),
    packs: seqs.length,
  }));
}

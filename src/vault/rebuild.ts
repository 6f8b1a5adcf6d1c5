import { isOffsiteError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { Catalog, PackRow } from './catalog/index.ts';
import type { PointRecord, ServerRecord, SoftDeleteRecord, VaultRecord } from './records.ts';
import { readJson } from './records.ts';

// `offsite vault rebuild-catalog`: the catalog is an accelerator (DESIGN.md §2.1), so
// everything it must know is read back from storage — vault settings, registered
// servers, committed points with their packs, soft deletions — and what the catalog
// lacks is added under the same ids. Rows it already has are left alone, so running it
// twice, or on a catalog that lost only part of its rows, is safe.

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const VAULT_RECORD = new RegExp(`^(${UUID})/vault/\\d{15}\\.json$`);
const SERVER_RECORD = new RegExp(`^(${UUID})/servers/(${UUID})/server/\\d{15}\\.json$`);
const POINT_RECORD = new RegExp(`^(${UUID})/servers/(${UUID})/points/(${UUID})\\.json$`);
const SOFT_DELETED = new RegExp(`^(${UUID})/servers/(${UUID})/points/(${UUID})\\.soft-deleted$`);
const PACK = new RegExp(`^(${UUID})/servers/(${UUID})/repo/data/[0-9a-f]{2}/([0-9a-f]{64})$`);

export interface RebuildReport {
  vaults: number;
  servers: number;
  packs: number;
  points: number;
  softDeleted: number;
  /** What could not be brought back, and why. */
  problems: string[];
}

interface Found {
  vaults: Map<string, string>;
  servers: Map<string, string>;
  points: string[];
  softDeleted: Map<string, string>;
  packs: Map<string, { name: string; size: number }[]>;
}

/** One pass over the region: the newest record of each vault and server, every point and pack. */
async function scan(store: BlobStore): Promise<Found> {
  const found: Found = {
    vaults: new Map(),
    servers: new Map(),
    points: [],
    softDeleted: new Map(),
    packs: new Map(),
  };
  const newest = (map: Map<string, string>, key: string, name: string) => {
    const known = map.get(key);
    if (!known || name > known) map.set(key, name);
  };
  for await (const { name, size } of store.list('')) {
    const vault = VAULT_RECORD.exec(name);
    const server = SERVER_RECORD.exec(name);
    const point = POINT_RECORD.exec(name);
    const softDeleted = SOFT_DELETED.exec(name);
    const pack = PACK.exec(name);
    if (vault) newest(found.vaults, vault[1]!, name);
    else if (server) newest(found.servers, server[2]!, name);
    else if (point) found.points.push(name);
    else if (softDeleted) found.softDeleted.set(softDeleted[3]!, name);
    else if (pack) {
      const list = found.packs.get(pack[2]!) ?? [];
      list.push({ name: pack[3]!, size });
      found.packs.set(pack[2]!, list);
    }
  }
  return found;
}

async function restoreVaults(catalog: Catalog, store: BlobStore, found: Found, report: RebuildReport) {
  const known = new Set((await catalog.listVaults({ includeDeleted: true })).map((v) => v.id));
  for (const name of found.vaults.values()) {
    const { vault } = await readJson<VaultRecord>(store, name);
    if (known.has(vault.id)) continue;
    await catalog.createVault({ ...vault, secondaryRegion: vault.secondaryRegion ?? null });
    if (vault.deletedAt !== null) await catalog.deleteVault(vault.id, vault.deletedAt);
    report.vaults++;
  }
}

async function restoreServers(catalog: Catalog, store: BlobStore, found: Found, report: RebuildReport) {
  for (const name of found.servers.values()) {
    const { server } = await readJson<ServerRecord>(store, name);
    const existing = await catalog.getServer(server.id).catch(() => undefined);
    if (existing) continue;
    await catalog.registerServer({ ...server });
    report.servers++;
  }
}

async function restorePacks(
  catalog: Catalog,
  found: Found,
  report: RebuildReport,
  now: number,
): Promise<Map<string, Map<string, PackRow>>> {
  const byServer = new Map<string, Map<string, PackRow>>();
  for (const [serverId, packs] of found.packs) {
    const rows = new Map<string, PackRow>();
    try {
      for (const row of await catalog.listPacks(serverId)) rows.set(row.name, row);
    } catch (err) {
      report.problems.push(
        `packs of unknown server ${serverId} skipped (${isOffsiteError(err) ? err.code : err})`,
      );
      continue;
    }
    for (const { name, size } of packs.sort((a, b) => a.name.localeCompare(b.name))) {
      if (rows.has(name)) continue;
      rows.set(name, await catalog.recordPack({ serverId, name, size, createdAt: now }));
      report.packs++;
    }
    byServer.set(serverId, rows);
  }
  return byServer;
}

async function restorePoint(
  catalog: Catalog,
  store: BlobStore,
  name: string,
  packs: Map<string, Map<string, PackRow>>,
  found: Found,
  report: RebuildReport,
) {
  const record = await readJson<PointRecord>(store, name);
  const { point } = record;
  if (await catalog.getPoint(point.id).catch(() => undefined)) return;
  const rows = packs.get(point.serverId) ?? new Map<string, PackRow>();
  const missing = record.packs.filter((p) => !rows.has(p));
  if (missing.length > 0) {
    report.problems.push(
      `point ${point.id} not restored: ${missing.length} of its packs are not in storage (first ${missing[0]})`,
    );
    return;
  }
  await catalog.commitPoint({
    id: point.id,
    serverId: point.serverId,
    snapshotName: point.snapshotName,
    time: point.time,
    stats: point.stats,
    packSeqs: record.packs.map((p) => rows.get(p)!.seq),
    committedAt: point.committedAt,
  });
  report.points++;
  const softDeleted = found.softDeleted.get(point.id);
  if (softDeleted) {
    const { softDeletedAt } = await readJson<SoftDeleteRecord>(store, softDeleted);
    await catalog.softDeletePoint(point.id, softDeletedAt);
    report.softDeleted++;
  }
}

/** Brings back into `catalog` what the regions' storage holds and the catalog lacks. */
export async function rebuildCatalog(
  catalog: Catalog,
  regions: readonly BlobStore[],
  now: number,
): Promise<RebuildReport> {
  const report: RebuildReport = { vaults: 0, servers: 0, packs: 0, points: 0, softDeleted: 0, problems: [] };
  for (const store of regions) {
    const found = await scan(store);
    await restoreVaults(catalog, store, found, report);
    await restoreServers(catalog, store, found, report);
    const packs = await restorePacks(catalog, found, report, now);
    for (const name of found.points.sort()) {
      try {
        await restorePoint(catalog, store, name, packs, found, report);
      } catch (err) {
        if (!isOffsiteError(err)) throw err;
        report.problems.push(`${name}: ${err.message}`);
      }
    }
  }
  return report;
}

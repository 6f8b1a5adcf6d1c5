import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, UsageRow, VaultRow } from '../catalog/index.ts';
import { breakdownJson } from './breakdown.ts';
import { computeUsage, type VaultUsage } from './compute.ts';

// Usage history: one row a day for the vault and one for each of its servers
// (catalog.recordUsage replaces the day's row, so running more often keeps the newest).

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' in UTC, as the catalog keys usage rows. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export async function recordUsageHistory(
  catalog: Catalog,
  region: BlobStore,
  vault: VaultRow,
  now: number,
): Promise<VaultUsage> {
  const usage = await computeUsage(catalog, region, vault, now);
  const day = utcDay(now);
  await catalog.recordUsage({
    vaultId: vault.id,
    serverId: null,
    day,
    protectedBytes: usage.protectedBytes,
    storedBytes: usage.storedBytes,
    breakdown: breakdownJson(usage.breakdown),
  });
  for (const server of usage.servers) {
    await catalog.recordUsage({
      vaultId: vault.id,
      serverId: server.serverId,
      day,
      protectedBytes: server.protectedBytes,
      storedBytes: server.storedBytes,
      breakdown: breakdownJson(server.breakdown),
    });
  }
  return usage;
}

/** The last `days` days up to today; the vault's rows, or one server's. */
export function usageHistory(
  catalog: Catalog,
  vaultId: string,
  now: number,
  days: number,
  serverId: string | null,
): Promise<UsageRow[]> {
  return catalog.listUsage(vaultId, utcDay(now - (days - 1) * DAY_MS), utcDay(now), { serverId });
}

import type { Catalog, VaultRow } from '../catalog/index.ts';
import { raiseIfChanged, resolveOpen } from '../ops/alerts.ts';
import { replicationLag } from './lag.ts';

// "The secondary is behind": a vault whose secondary lacks data older than the threshold
// gets one warning; it is resolved once the secondary holds everything older than that.
// The lag is the age of the oldest object the secondary lacks (a pack recorded since the
// last comparison counts from when it was recorded), so a vault with nothing new is never
// late, and a replication that stopped shows as soon as new data ages past the threshold.

export const REPLICATION_LAG_KIND = 'replication-lag';
/** Default of `offsite server --replication-lag-alert`. */
export const DEFAULT_REPLICATION_LAG_ALERT_MS = 3_600_000;

/** One open alert per vault (a changed secondary region is the same condition). */
export function replicationLagKey(): string {
  return REPLICATION_LAG_KIND;
}

function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days ${hours % 24} h`;
}

export async function checkReplicationLag(
  catalog: Catalog,
  vault: VaultRow,
  now: number,
  thresholdMs: number,
): Promise<void> {
  const lag = await replicationLag(catalog, vault);
  const behindMs = lag?.oldestPendingAt == null ? 0 : Math.max(0, now - lag.oldestPendingAt);
  if (lag === null || behindMs <= thresholdMs) {
    await resolveOpen(catalog, vault.id, replicationLagKey(), now);
    return;
  }
  const problem = lag.problems[0] === undefined ? '' : `; last problem: ${lag.problems[0]}`;
  await raiseIfChanged(catalog, {
    vaultId: vault.id,
    serverId: null,
    kind: REPLICATION_LAG_KIND,
    severity: 'warning',
    message:
      `vault ${vault.name}: the secondary region "${lag.secondaryRegion}" is ${duration(behindMs)} behind ` +
      `(more than ${duration(thresholdMs)}): ${lag.pendingObjects} objects, ${lag.pendingBytes} bytes ` +
      `not copied yet${problem}`,
    dedupeKey: replicationLagKey(),
    raisedAt: now,
  });
}

export async function checkAllReplicationLag(
  catalog: Catalog,
  now: number,
  thresholdMs: number,
): Promise<void> {
  for (const vault of await catalog.listVaults()) await checkReplicationLag(catalog, vault, now, thresholdMs);
}

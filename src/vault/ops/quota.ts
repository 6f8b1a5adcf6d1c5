import { formatBytes } from '../../util/index.ts';
import type { AlertSeverity, Catalog, VaultRow } from '../catalog/index.ts';
import { ALERT_KINDS, raiseIfChanged, resolveOpen } from './alerts.ts';

// Quota alerts (DESIGN.md §4): at 80 % a warning, at 95 % and at 100 % (new data refused)
// critical. One level is open at a time, each under its own key, so crossing a threshold
// either way is a new alert and a webhook event, while staying at a level is not.

export const QUOTA_LEVELS: readonly { percent: number; severity: AlertSeverity }[] = [
  { percent: 100, severity: 'critical' },
  { percent: 95, severity: 'critical' },
  { percent: 80, severity: 'warning' },
];

export function quotaKey(percent: number): string {
  return `quota-${percent}`;
}

function quotaMessage(vault: VaultRow, quota: number, storedBytes: number, percent: number): string {
  const usage = `${formatBytes(storedBytes)} of its ${formatBytes(quota)} quota`;
  if (percent >= 100)
    return `vault ${vault.name} is full (${usage}): new backup data is refused until space is freed or the quota raised`;
  return `vault ${vault.name} uses ${Math.floor((storedBytes * 100) / quota)}% of its quota (${usage})`;
}

/**
 * Raises the alert of the highest threshold storedBytes reaches and resolves the others;
 * a vault without a quota (or deleted) has none open. Returns the level reached, or null.
 */
export function checkQuotaAlerts(
  catalog: Catalog,
  vault: VaultRow,
  storedBytes: number,
  now: number,
): Promise<number | null> {
  const quota = vault.deletedAt === null ? vault.quotaBytes : null;
  const level = quota === null ? undefined : QUOTA_LEVELS.find((l) => storedBytes * 100 >= l.percent * quota);
  return catalog.transaction(async (tx) => {
    for (const other of QUOTA_LEVELS) {
      if (other !== level) await resolveOpen(tx, vault.id, quotaKey(other.percent), now);
    }
    if (level && quota !== null) {
      await raiseIfChanged(tx, {
        vaultId: vault.id,
        serverId: null,
        kind: ALERT_KINDS.quota,
        severity: level.severity,
        message: quotaMessage(vault, quota, storedBytes, level.percent),
        dedupeKey: quotaKey(level.percent),
        raisedAt: now,
      });
    }
    return level?.percent ?? null;
  });
}

/** The background check: stored bytes are the sizes of the vault's packs in the catalog. */
export async function checkAllQuotas(catalog: Catalog, now: number): Promise<void> {
  for (const vault of await catalog.listVaults()) {
    const stored = vault.quotaBytes === null ? 0 : await catalog.vaultPackBytes(vault.id);
    await checkQuotaAlerts(catalog, vault, stored, now);
  }
}

import { NotFoundError } from '../../errors/index.ts';
import type { AlertRow, Catalog, JobRow, NewAlert, RaisedAlert } from '../catalog/index.ts';
import { clip, iso } from './input.ts';

// Raising and resolving alerts. Every raise is an event that goes out to the vault's
// webhooks, so periodic checks raise only when something changed (raiseIfChanged): a
// condition that merely persists is not news. One-off events (a failed backup) raise
// each time they happen.

export const ALERT_KINDS = {
  backupFailed: 'backup-failed',
  quota: 'quota',
  certificateExpiry: 'certificate-expiry',
} as const;

export function backupFailedKey(serverId: string): string {
  return `backup-failed:${serverId}`;
}

/** Raises unless an open alert of the same key already has this severity. */
export function raiseIfChanged(catalog: Catalog, input: NewAlert): Promise<RaisedAlert | undefined> {
  return catalog.transaction(async (tx) => {
    const open = await tx.findOpenAlert(input.vaultId, input.dedupeKey);
    if (open && open.severity === input.severity) return undefined;
    return tx.raiseAlert(input);
  });
}

export async function resolveOpen(
  catalog: Catalog,
  vaultId: string,
  dedupeKey: string,
  now: number,
): Promise<AlertRow | undefined> {
  const open = await catalog.findOpenAlert(vaultId, dedupeKey);
  return open && catalog.resolveAlert(open.id, now);
}

/**
 * A backup that failed raises (again, if still open) its server's alert; a later one that
 * completed resolves it. Called in the transaction that records the job's end.
 */
export async function backupOutcomeAlerts(
  tx: Catalog,
  job: JobRow,
  serverName: string,
  now: number,
): Promise<void> {
  if (job.kind !== 'backup' || job.serverId === null || job.status === 'running') return;
  const dedupeKey = backupFailedKey(job.serverId);
  if (job.status !== 'failed') {
    await resolveOpen(tx, job.vaultId, dedupeKey, now);
    return;
  }
  await tx.raiseAlert({
    vaultId: job.vaultId,
    serverId: job.serverId,
    kind: ALERT_KINDS.backupFailed,
    severity: 'critical',
    message: clip(`backup of server ${serverName} failed: ${job.error ?? 'no reason given'}`, 1000),
    dedupeKey,
    raisedAt: now,
  });
}

/** An alert of this vault, or "not found" (an alert of another vault is not shown). */
export async function alertOfVault(catalog: Catalog, vaultId: string, id: string): Promise<AlertRow> {
  const alert = await catalog.getAlert(id);
  if (alert.vaultId !== vaultId) throw new NotFoundError('ALERT_NOT_FOUND', `no alert with id ${id}`);
  return alert;
}

export function alertState(alert: AlertRow): 'open' | 'acknowledged' | 'resolved' {
  if (alert.resolvedAt !== null) return 'resolved';
  return alert.acknowledgedAt === null ? 'open' : 'acknowledged';
}

export function alertJson(alert: AlertRow, serverNames: ReadonlyMap<string, string>) {
  return {
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    state: alertState(alert),
    message: alert.message,
    server: alert.serverId === null ? null : (serverNames.get(alert.serverId) ?? alert.serverId),
    raisedAt: iso(alert.raisedAt),
    lastRaisedAt: iso(alert.lastRaisedAt),
    occurrences: alert.occurrences,
    acknowledgedAt: iso(alert.acknowledgedAt),
    resolvedAt: iso(alert.resolvedAt),
  };
}

export async function serverNames(catalog: Catalog, vaultId: string): Promise<Map<string, string>> {
  return new Map((await catalog.listServers(vaultId)).map((s) => [s.id, s.name]));
}

import type { BackgroundTask } from './background.ts';

// Pruning the audit log: entries older than the retention period go, as a prefix of the
// chain (the catalog anchors the first kept entry, so `offsite audit verify` stays green).

const DAY = 86_400_000;
export const DEFAULT_AUDIT_RETENTION_MS = 400 * DAY;

export function auditTasks(options: { retentionMs?: number | undefined }): BackgroundTask[] {
  const retentionMs = options.retentionMs ?? DEFAULT_AUDIT_RETENTION_MS;
  return [
    {
      name: 'audit-prune',
      everyMs: 6 * 60 * 60_000,
      run: async (services) => {
        const now = services.now();
        await services.catalog.pruneAudit(now - retentionMs, now);
      },
    },
  ];
}

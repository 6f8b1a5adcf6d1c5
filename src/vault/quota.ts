import { QuotaError } from '../errors/index.ts';
import { formatBytes } from '../util/index.ts';
import type { Catalog, VaultRow } from './catalog/index.ts';

// A vault's quota (DESIGN.md §4): new data is refused once the vault would store more
// than its quota.
//
// What a vault stores is counted from the catalog: the sizes of its servers' packs that
// are not deleted (condemned ones still occupy storage, so they count). Metadata objects
// (config, keys, index files, snapshots, sessions, markers) are not counted: the catalog
// does not record them, and listing the region on every upload would cost far more than
// they weigh. That is acceptable because they are small beside the packs (an index entry
// is tens of bytes per blob of ~1 MiB; a snapshot or key is a few KiB), the quota is an
// accounting limit, not a security boundary (only registered agents write), and the
// usage report, which lists storage, shows them as metadata overhead.

/** Bytes the vault's packs occupy in storage: one SUM in the catalog. */
export function vaultStoredBytes(catalog: Catalog, vaultId: string): Promise<number> {
  return catalog.vaultPackBytes(vaultId);
}

/**
 * Throws QuotaError QUOTA_EXCEEDED when storing `incoming` more bytes would take the vault
 * past its quota; a vault without a quota takes anything (and costs no catalog read).
 */
export async function checkQuota(catalog: Catalog, vault: VaultRow, incoming: number): Promise<void> {
  if (vault.quotaBytes === null) return;
  const stored = await vaultStoredBytes(catalog, vault.id);
  if (stored + incoming <= vault.quotaBytes) return;
  throw new QuotaError(
    'QUOTA_EXCEEDED',
    `the vault "${vault.name}" is full: it stores ${formatBytes(stored)} of its ${formatBytes(vault.quotaBytes)} quota, and ${formatBytes(incoming)} more would exceed it`,
    {
      hint: 'ask an administrator to raise the vault quota, or let retention free space (expired recovery points are deleted after their soft-delete days)',
    },
  );
}

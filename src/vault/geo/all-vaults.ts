import { isOffsiteError, TransientError } from '../../errors/index.ts';
import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, VaultRow } from '../catalog/index.ts';
import { incompleteBase, lastStatus, type ReplicationOptions, replicateVault } from './replicate.ts';

// The replication task: one cycle for each vault that has a secondary region. A vault that
// cannot be compared (a region unreachable or not configured here) has that said in its
// status and does not stop the others; the first such failure is thrown at the end so the
// background runner logs it.

async function cycleOf(
  catalog: Catalog,
  regionStore: (name: string) => BlobStore,
  vault: VaultRow,
  now: () => number,
  options: ReplicationOptions,
): Promise<unknown> {
  try {
    const stores = { primary: regionStore(vault.region), secondary: regionStore(vault.secondaryRegion!) };
    const run = await replicateVault(catalog, vault, stores, now, options);
    if (run.complete) return undefined;
    return new TransientError(
      'REPLICATION_INCOMPLETE',
      `vault ${vault.name}: replication to region "${vault.secondaryRegion}" could not compare everything (${run.status.problems[0]})`,
    );
  } catch (err) {
    if (!isOffsiteError(err)) throw err;
    const base = incompleteBase(vault, await lastStatus(catalog, vault));
    const counts = { copiedObjects: 0, copiedBytes: 0, deletedObjects: 0 };
    const problems = [`${err.code}: ${err.message}`];
    await catalog.saveReplicationStatus({ ...base, ...counts, finishedAt: now(), problems });
    return err;
  }
}

export interface AllVaultsOptions extends ReplicationOptions {
  /** Called before each vault: the background task confirms its lease (throwing stops the run). */
  confirm?: () => Promise<void>;
}

export async function replicateAllVaults(
  catalog: Catalog,
  regionStore: (name: string) => BlobStore,
  now: () => number,
  options: AllVaultsOptions = {},
): Promise<void> {
  const failures: unknown[] = [];
  for (const vault of await catalog.listVaults()) {
    if (vault.secondaryRegion === null) continue;
    await options.confirm?.();
    const failure = await cycleOf(catalog, regionStore, vault, now, options);
    if (failure !== undefined) failures.push(failure);
  }
  if (failures.length > 0) throw failures[0];
}

import { ConflictError } from '../../errors/index.ts';
import type { BlobStore } from '../../storage/index.ts';
import type { Catalog, VaultRow } from '../catalog/index.ts';
import { PACK_ID, syncVaultMarker } from '../gc/index.ts';
import { repoStore } from '../layout.ts';
import { saveVaultRecord } from '../records.ts';
import { inventorySecondary, type SecondaryInventory, type ServerShortfall } from './inventory.ts';

// Promoting the secondary region after losing the primary: the secondary becomes the
// vault's region, so backups write there and restores read from there. Only the
// secondary is read (the primary may be gone for good). It is refused while the
// secondary lacks something the catalog knows, unless forced; a forced promotion first
// records what is lost (its points and packs deleted in the catalog, and the packs listed
// in the vault's gc marker, so agents store those blobs again and a commit never relies
// on a pack the new region lacks). The vault is left without a secondary: the old
// primary is never written or cleaned up by replication (it may hold the only copy of
// what was lost), and the owner chooses a new secondary.

export interface Promotion {
  vault: VaultRow;
  previousRegion: string;
  inventory: SecondaryInventory;
  /** Points and packs recorded as lost (non-zero only when forced). */
  lostPoints: number;
  lostPacks: number;
}

export function noSecondary(vault: VaultRow): ConflictError {
  return new ConflictError('NO_SECONDARY_REGION', `vault ${vault.name} has no secondary region to promote`, {
    hint: 'a vault needs a secondary region (vault set NAME --secondary-region S) and a replicated copy there',
  });
}

function shortfallText(inv: SecondaryInventory): string {
  const parts = [
    `${inv.missingPoints} recovery points and ${inv.missingPacks} packs (${inv.missingPackBytes} bytes) would be missing`,
  ];
  if (inv.lastCyclePending > 0)
    parts.push(`the last replication cycle left ${inv.lastCyclePending} objects uncopied`);
  if (inv.lastComparedAt === null) parts.push('replication never completed a comparison');
  return parts.join('; ');
}

function notCaughtUp(vault: VaultRow, inv: SecondaryInventory): ConflictError {
  return new ConflictError(
    'SECONDARY_NOT_CAUGHT_UP',
    `vault ${vault.name}: the secondary region "${inv.secondaryRegion}" is not caught up: ${shortfallText(inv)}`,
    {
      hint: 'let replication catch up while the primary is reachable, or promote with --force to accept the loss',
    },
  );
}

/** Marks the lost points and packs deleted, and moves the vault to its secondary, in one transaction. */
async function switchRegion(catalog: Catalog, vault: VaultRow, lost: ServerShortfall[], now: number) {
  const target = vault.secondaryRegion!;
  const changed = await catalog.transaction(async (tx) => {
    for (const server of lost) {
      for (const point of server.points) await tx.markPointDeleted(point.id, now);
      if (server.packs.length > 0)
        await tx.markPacksDeleted(
          server.serverId,
          server.packs.map((p) => p.seq),
          now,
        );
    }
    const moved = await tx.updateVault(vault.id, { region: target, secondaryRegion: null });
    // Thrown inside the transaction, so a catalog that cannot change regions changes nothing.
    if (moved.region !== target)
      throw new Error(`the catalog did not move vault ${vault.name} to "${target}"`);
    return moved;
  });
  return changed;
}

/** Lists the lost packs in each affected repository's gc marker (see ../gc/markers.ts). */
async function announceLostPacks(
  catalog: Catalog,
  store: BlobStore,
  vault: VaultRow,
  lost: ServerShortfall[],
  now: number,
) {
  for (const server of lost) {
    if (server.packs.length === 0) continue;
    const repo = repoStore(store, vault.id, server.serverId);
    const stored = new Set<string>();
    for await (const object of repo.list('data/')) {
      const id = object.name.slice(object.name.lastIndexOf('/') + 1);
      if (PACK_ID.test(id)) stored.add(id);
    }
    const all = await catalog.listPacks(server.serverId, { includeDeleted: true });
    const gone = all.filter((p) => p.deletedAt !== null || p.condemnedAt !== null).map((p) => p.name);
    const live = all.filter((p) => p.deletedAt === null && p.condemnedAt === null).map((p) => p.name);
    await syncVaultMarker(repo, { packs: new Set(gone), stored, live: new Set(live) }, now);
  }
}

export async function promoteSecondary(
  catalog: Catalog,
  vault: VaultRow,
  regionStore: (name: string) => BlobStore,
  now: number,
  options: { force: boolean },
): Promise<Promotion> {
  if (vault.secondaryRegion === null) throw noSecondary(vault);
  const secondary = regionStore(vault.secondaryRegion);
  const inventory = await inventorySecondary(catalog, vault, secondary);
  if (!inventory.caughtUp && !options.force) throw notCaughtUp(vault, inventory);
  const lost = inventory.servers.filter((s) => s.packs.length > 0 || s.points.length > 0);
  const changed = await switchRegion(catalog, vault, lost, now);
  await saveVaultRecord(secondary, changed, now);
  await announceLostPacks(catalog, secondary, changed, lost, now);
  return {
    vault: changed,
    previousRegion: vault.region,
    inventory,
    lostPoints: inventory.missingPoints,
    lostPacks: inventory.missingPacks,
  };
}

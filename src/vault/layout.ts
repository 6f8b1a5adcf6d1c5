import { type BlobStore, PrefixStore } from '../storage/index.ts';

// Where a vault keeps things in its region's storage. Everything needed to rebuild the
// catalog is here (DESIGN.md §2.1): the vault's settings, its registered servers, each
// committed recovery point, and each server's repository, which only the agent can read.
//
//   <vault id>/vault/<time>.json                       settings; the newest file wins
//   <vault id>/servers/<server id>/server/<time>.json  a registered server; newest wins
//   <vault id>/servers/<server id>/points/<point id>.json          a committed point
//   <vault id>/servers/<server id>/points/<point id>.soft-deleted  its soft deletion
//   <vault id>/servers/<server id>/points/<point id>.undeleted     held after an undelete
//   <vault id>/servers/<server id>/repo/...            the agent's repository
//
// Vault records are plain JSON: they hold names, times, sizes and statistics, never
// anything the passphrase protects.

export function vaultPrefix(vaultId: string): string {
  return `${vaultId}/`;
}

export function vaultRecordPrefix(vaultId: string): string {
  return `${vaultId}/vault/`;
}

/** A record that changes is written anew under its time (zero-padded, so names sort by time). */
export function versionedName(prefix: string, at: number): string {
  return `${prefix}${String(at).padStart(15, '0')}.json`;
}

export function serverPrefix(vaultId: string, serverId: string): string {
  return `${vaultId}/servers/${serverId}/`;
}

export function serverRecordPrefix(vaultId: string, serverId: string): string {
  return `${serverPrefix(vaultId, serverId)}server/`;
}

export function pointRecordName(vaultId: string, serverId: string, pointId: string): string {
  return `${serverPrefix(vaultId, serverId)}points/${pointId}.json`;
}

export function pointSoftDeleteName(vaultId: string, serverId: string, pointId: string): string {
  return `${serverPrefix(vaultId, serverId)}points/${pointId}.soft-deleted`;
}

export function repoPrefix(vaultId: string, serverId: string): string {
  return `${serverPrefix(vaultId, serverId)}repo/`;
}

/** The agent's repository as a store of its own (names relative to the repository). */
export function repoStore(region: BlobStore, vaultId: string, serverId: string): BlobStore {
  return new PrefixStore(region, repoPrefix(vaultId, serverId));
}

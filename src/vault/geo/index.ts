// Geo-redundancy: a vault's copy in a secondary region. Replication cycles copy the vault's
// objects from its region to the secondary and report the lag; agents' reads fall back to
// the secondary when the primary region fails. Imports from ../catalog, ../layout,
// ../ops (alerts), storage, util and errors.

export { replicateAllVaults } from './all-vaults.ts';
export { inventorySecondary, type SecondaryInventory } from './inventory.ts';
export { type ReplicationLag, replicationLag } from './lag.ts';
export {
  checkAllReplicationLag,
  checkReplicationLag,
  DEFAULT_REPLICATION_LAG_ALERT_MS,
  REPLICATION_LAG_KIND,
} from './lag-alert.ts';
export { type Promotion, promoteSecondary } from './promote.ts';
export { agentRepoStore, type GeoLog, regionHealth } from './read-fallback.ts';
export { type ReplicationOptions, type ReplicationRun, replicateVault } from './replicate.ts';

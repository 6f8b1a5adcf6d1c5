// Geo-redundancy: a vault's copy in a secondary region. Replication cycles copy the vault's
// objects from its region to the secondary and report the lag; agents' reads fall back to
// the secondary when the primary region fails. Imports from ../catalog, ../layout,
// storage, util and errors.

export { replicateAllVaults } from './all-vaults.ts';
export { type ReplicationLag, replicationLag } from './lag.ts';
export { agentRepoStore, type GeoLog, regionHealth } from './read-fallback.ts';
export { type ReplicationOptions, type ReplicationRun, replicateVault } from './replicate.ts';

// The vault's catalog: vaults, credentials, certificates, registered servers, packs and
// recovery points (pack references as bitmaps), jobs, alerts, people, usage history, and
// disaster recovery's sites, site agents, workloads and commands.
// It accelerates the vault and stores its policy; blob storage stays the source of truth
// and the catalog can be rebuilt from it. `Catalog` is the contract, `SqliteCatalog` the
// embedded backend, `PostgresCatalog` the one several vault servers share. The shared
// test suite (./catalog-suite.ts) is not re-exported: it imports node:test. This folder
// imports only from src/errors, src/util and the `pg` package.

export * as bitmap from './bitmap.ts';
export { DEFAULT_LEASE_MS, HeldLease, type LeaseClaim, type LeaseEvents, withLease } from './lease.ts';
export { MIGRATIONS, type Migration, pendingMigrations } from './migrations.ts';
export { PostgresCatalog, type PostgresCatalogOptions } from './postgres/index.ts';
export { SqliteCatalog, type SqliteCatalogOptions } from './sqlite.ts';
export * from './types.ts';

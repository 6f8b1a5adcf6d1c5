// The vault service logic: vaults, registration of servers, recovery points, retention,
// soft delete, garbage collection, usage, jobs and alerts, over the Catalog interface and
// the regions' blob storage. No HTTP here (that is src/server). This folder imports from
// repo, storage, pki, util and errors.

export * from './layout.ts';

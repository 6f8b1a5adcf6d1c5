// Every operation of this backend, found by the Catalog method's name (../shared/methods.ts).

export * from './alerts.ts';
export * from './audit.ts';
export * from './certificates.ts';
export * from './credentials.ts';
export * from './dr.ts';
export * from './dr-plans.ts';
export * from './jobs.ts';
export * from './leases.ts';
export * from './packs.ts';
export * from './people.ts';
export * from './points.ts';
export * from './replication.ts';
export * from './servers.ts';
export * from './usage.ts';
export * from './vaults.ts';
export * from './webhooks.ts';

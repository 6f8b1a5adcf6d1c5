import { replicateAllVaults } from '../vault/geo/index.ts';
import type { BackgroundTask } from './background.ts';

// Geo-redundancy: each cycle copies every vault that has a secondary region to it (and
// mirrors deletions), then records where the copy stands, which `GET /v1/vaults/:name`
// reports as the replication lag. The lease is confirmed before each vault.

const MINUTE = 60_000;

export const GEO_TASKS: readonly BackgroundTask[] = [
  {
    name: 'replication',
    everyMs: 5 * MINUTE,
    run: (services, lease) =>
      replicateAllVaults(services.catalog, services.regionStore, services.now, {
        confirm: () => lease.confirm(),
      }),
  },
];

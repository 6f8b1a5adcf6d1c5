import {
  checkAllReplicationLag,
  DEFAULT_REPLICATION_LAG_ALERT_MS,
  replicateAllVaults,
} from '../vault/geo/index.ts';
import type { BackgroundTask } from './background.ts';

// Geo-redundancy: each cycle copies every vault that has a secondary region to it (and
// mirrors deletions), then records where the copy stands, which `GET /v1/vaults/:name`
// reports as the replication lag. The lease is confirmed before each vault. A separate
// check raises (and resolves) the replication-lag alert, so a replication that fails
// altogether still shows.

const MINUTE = 60_000;

export interface GeoTaskOptions {
  /** `offsite server --replication-lag-alert`: alert when the secondary is this far behind (default 1 h). */
  replicationLagAlertMs?: number | undefined;
}

export function geoTasks(options: GeoTaskOptions = {}): BackgroundTask[] {
  const thresholdMs = options.replicationLagAlertMs ?? DEFAULT_REPLICATION_LAG_ALERT_MS;
  return [
    {
      name: 'replication',
      everyMs: 5 * MINUTE,
      run: (services, lease) =>
        replicateAllVaults(services.catalog, services.regionStore, services.now, {
          confirm: () => lease.confirm(),
        }),
    },
    {
      name: 'replication-lag',
      everyMs: 5 * MINUTE,
      run: (services) => checkAllReplicationLag(services.catalog, services.now(), thresholdMs),
    },
  ];
}

/** The tasks with the default threshold (server.ts passes its option through geoTasks). */
export const GEO_TASKS: readonly BackgroundTask[] = geoTasks();

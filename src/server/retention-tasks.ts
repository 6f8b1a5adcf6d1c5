import type { VaultRow } from '../vault/catalog/index.ts';
import { collectVaultGarbage } from '../vault/gc/index.ts';
import { applyRetention } from '../vault/retention/index.ts';
import { recordUsageHistory } from '../vault/usage/index.ts';
import type { BackgroundTask, TaskLease } from './background.ts';
import type { Services } from './types.ts';

// Retention, garbage collection and usage history: each walks every vault that is not
// deleted. One vault failing (its region unreachable, say) does not stop the others; the
// first failure is thrown at the end so the background runner logs it. The task's lease
// is confirmed before each vault, so an instance that lost it (stalled past its term while
// another took over) stops instead of working beside the new holder.

const HOUR = 3_600_000;

async function eachVault(
  services: Services,
  lease: TaskLease,
  work: (vault: VaultRow) => Promise<unknown>,
): Promise<void> {
  const failures: unknown[] = [];
  for (const vault of await services.catalog.listVaults()) {
    await lease.confirm();
    try {
      await work(vault);
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}

export const RETENTION_TASKS: readonly BackgroundTask[] = [
  {
    name: 'retention',
    everyMs: HOUR,
    run: (services, lease) =>
      eachVault(services, lease, (vault) =>
        applyRetention(services.catalog, services.regionStore(vault.region), vault, services.now()),
      ),
  },
  {
    name: 'gc',
    everyMs: HOUR,
    run: (services, lease) =>
      eachVault(services, lease, (vault) =>
        collectVaultGarbage(services.catalog, services.regionStore(vault.region), vault, services.now()),
      ),
  },
  {
    // Daily history; running more often only refreshes today's row.
    name: 'usage',
    everyMs: 6 * HOUR,
    run: (services, lease) =>
      eachVault(services, lease, (vault) =>
        recordUsageHistory(services.catalog, services.regionStore(vault.region), vault, services.now()),
      ),
  },
];

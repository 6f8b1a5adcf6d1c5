import {
  checkAllCertificates,
  checkAllMissedBackups,
  checkAllQuotas,
  deliverDueWebhooks,
  webhookSecretKey,
} from '../vault/ops/index.ts';
import type { BackgroundTask } from './background.ts';

// Alert checks and webhook delivery. The checks raise only on change, so running them
// often costs queries, not notifications; delivery runs often so alerts go out promptly.
// Each runs on the one instance that holds its lease (background.ts); delivery also
// claims each delivery in the catalog, so even a run beside a lost lease sends it once.

const MINUTE = 60_000;

export const OPS_TASKS: readonly BackgroundTask[] = [
  {
    name: 'quota-alerts',
    everyMs: 10 * MINUTE,
    run: (services) => checkAllQuotas(services.catalog, services.now()),
  },
  {
    name: 'certificate-alerts',
    everyMs: 60 * MINUTE,
    run: (services) => checkAllCertificates(services.catalog, services.now()),
  },
  {
    name: 'missed-backups',
    everyMs: 10 * MINUTE,
    run: (services) => checkAllMissedBackups(services.catalog, services.now()),
  },
  {
    name: 'webhook-delivery',
    everyMs: 15_000,
    run: async (services) => {
      await deliverDueWebhooks(services.catalog, {
        key: webhookSecretKey(services.ca.keyPem),
        now: services.now,
      });
    },
  },
];

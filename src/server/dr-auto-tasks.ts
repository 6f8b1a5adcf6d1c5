import { AUTO_FAILOVER_TASK, checkAutoFailover } from '../vault/dr/auto/index.ts';
import type { BackgroundTask } from './background.ts';

// Opt-in automatic failover (src/vault/dr/auto): every few seconds, under the task's
// catalog lease (one instance decides at a time), each plan with autoFailover on is
// checked against the server's and the witnesses' view of its active site; a failover it
// starts is then walked by the dr-plan-runs task like any other run.

export { AUTO_FAILOVER_TASK };

const CHECK_EVERY_MS = 5000;

export function drAutoTasks(): BackgroundTask[] {
  return [
    {
      name: AUTO_FAILOVER_TASK,
      everyMs: CHECK_EVERY_MS,
      run: async (services, lease) => {
        const outcomes = await checkAutoFailover(services.catalog, services.now(), () => lease.confirm());
        for (const o of outcomes) {
          services.log({
            time: new Date().toISOString(),
            msg: `automatic failover ${o.decision}`,
            level: 'warn',
            ...o,
          });
        }
      },
    },
  ];
}

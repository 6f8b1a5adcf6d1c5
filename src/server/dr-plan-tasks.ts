import { advanceRuns } from '../vault/dr/plans/index.ts';
import type { BackgroundTask } from './background.ts';

// The failover runner: advances every running failover (and test cleanup) under the
// task's catalog lease, so one instance walks a run at a time; every step's state is in
// the catalog, so a restarted (or another) instance resumes it where it was.

export const DR_RUN_TASK = 'dr-plan-runs';

export function drPlanTasks(): BackgroundTask[] {
  return [
    {
      name: DR_RUN_TASK,
      everyMs: 1000,
      run: async (services, lease) => {
        await advanceRuns(services.catalog, services.now, () => lease.confirm());
      },
    },
  ];
}

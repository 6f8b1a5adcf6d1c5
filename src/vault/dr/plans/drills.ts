import type { Catalog } from '../../catalog/index.ts';
import { iso } from '../../ops/index.ts';

// Drill history: a workload whose last successful test failover is older than
// TEST_OVERDUE_MS (or that never had one) is flagged — a plan never rehearsed is a plan
// nobody knows works.

export const TEST_OVERDUE_DAYS = 90;
export const TEST_OVERDUE_MS = TEST_OVERDUE_DAYS * 86_400_000;

export interface WorkloadDrillStatus {
  name: string;
  lastTestAt: string | null;
  /** No successful test failover in the last 90 days. */
  testOverdue: boolean;
}

export async function workloadDrills(
  catalog: Catalog,
  scope: string | null,
  now: number,
): Promise<WorkloadDrillStatus[]> {
  const filter = scope === null ? {} : { vaultId: scope };
  const [workloads, drills] = await Promise.all([
    catalog.listWorkloads(filter),
    catalog.listWorkloadDrills(filter),
  ]);
  const last = new Map(drills.map((d) => [d.workloadId, d.lastTestAt]));
  return workloads.map((w) => {
    const at = last.get(w.id) ?? null;
    return { name: w.name, lastTestAt: iso(at), testOverdue: at === null || now - at > TEST_OVERDUE_MS };
  });
}

import type { AppliedPlan, Catalog, JsonObject, SiteRow, WorkloadRow } from '../../catalog/index.ts';
import { checkPlanDocument, PlanFileError, type PlanSpec } from './plan-file.ts';

// Applying a plan file: each plan is checked again (the API is the boundary), its
// workloads and script sites are found by name among those the caller may see, and all
// of them must be of one vault, the plan's. All plans are applied at once or none.

interface Visible {
  workloads: Map<string, WorkloadRow>;
  sites: Map<string, SiteRow>;
}

async function visible(catalog: Catalog, scope: string | null): Promise<Visible> {
  const filter = scope === null ? {} : { vaultId: scope };
  const [workloads, sites] = await Promise.all([catalog.listWorkloads(filter), catalog.listSites(filter)]);
  return {
    workloads: new Map(workloads.map((w) => [w.name, w])),
    sites: new Map(sites.map((s) => [s.name, s])),
  };
}

/** The plan's vault (its first workload's), and every reference that is missing or elsewhere. */
function planProblems(spec: PlanSpec, i: number, seen: Visible): { vaultId?: string; problems: string[] } {
  const problems: string[] = [];
  let vaultId: string | undefined;
  spec.groups.forEach((group, g) => {
    group.workloads.forEach((name, w) => {
      const at = `plans[${i}].groups[${g}].workloads[${w}]`;
      const workload = seen.workloads.get(name);
      if (!workload)
        problems.push(`${at}: no workload named "${name}" (declare it with \`offsite dr apply\`)`);
      else if (vaultId !== undefined && workload.vaultId !== vaultId)
        problems.push(`${at}: "${name}" belongs to another vault than the plan's other workloads`);
      else vaultId = workload.vaultId;
    });
  });
  spec.groups.forEach((group, g) => {
    for (const [list, actions] of [
      ['pre', group.pre],
      ['post', group.post],
    ] as const) {
      actions.forEach((action, a) => {
        if (action.site === null) return;
        const site = seen.sites.get(action.site);
        const at = `plans[${i}].groups[${g}].${list}[${a}].site`;
        if (!site) problems.push(`${at}: no site named "${action.site}"`);
        else if (vaultId !== undefined && site.vaultId !== vaultId)
          problems.push(`${at}: "${action.site}" belongs to another vault than the plan's workloads`);
      });
    }
  });
  return { vaultId, problems };
}

export async function applyPlanDocument(
  catalog: Catalog,
  document: unknown,
  scope: string | null,
  now: number,
): Promise<AppliedPlan[]> {
  const specs = checkPlanDocument(document);
  const seen = await visible(catalog, scope);
  const checked = specs.map((spec, i) => ({ spec, ...planProblems(spec, i, seen) }));
  const problems = checked.flatMap((c) => c.problems);
  if (problems.length > 0) throw new PlanFileError(problems);
  return catalog.applyPlans(
    checked.map((c) => ({ vaultId: c.vaultId!, name: c.spec.name, spec: c.spec as unknown as JsonObject })),
    now,
  );
}

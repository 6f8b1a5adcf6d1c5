import type { AppliedWorkload, Catalog, JsonObject, SiteRow } from '../catalog/index.ts';
import { checkWorkloadDocument, WorkloadFileError, type WorkloadSpec } from './workload-file.ts';

// Applying a workload file: every workload is checked again here (the CLI checked it
// too, but the API is the boundary), its sites are found by name among those the caller
// may see, and the whole set is applied at once or not at all. Applying creates missing
// workloads and updates changed ones; workloads the file leaves out are kept.

/** Sites by name, only the caller's vault's for a scoped token (others do not exist for it). */
async function visibleSites(catalog: Catalog, scope: string | null): Promise<Map<string, SiteRow>> {
  const sites = await catalog.listSites(scope === null ? {} : { vaultId: scope });
  return new Map(sites.map((s) => [s.name, s]));
}

function siteProblems(specs: readonly WorkloadSpec[], sites: ReadonlyMap<string, SiteRow>): string[] {
  const problems: string[] = [];
  specs.forEach((spec, i) => {
    const primary = sites.get(spec.primarySite);
    const replica = sites.get(spec.replicaSite);
    for (const [field, name, site] of [
      ['primarySite', spec.primarySite, primary],
      ['replicaSite', spec.replicaSite, replica],
    ] as const) {
      if (!site)
        problems.push(
          `workloads[${i}].${field}: no site named "${name}" (create it with \`offsite site create\`)`,
        );
    }
    if (primary && replica && primary.vaultId !== replica.vaultId) {
      problems.push(
        `workloads[${i}].replicaSite: "${spec.replicaSite}" belongs to another vault than "${spec.primarySite}"`,
      );
    }
  });
  return problems;
}

export async function applyWorkloadDocument(
  catalog: Catalog,
  document: unknown,
  scope: string | null,
  now: number,
): Promise<AppliedWorkload[]> {
  const specs = checkWorkloadDocument(document);
  const sites = await visibleSites(catalog, scope);
  const problems = siteProblems(specs, sites);
  if (problems.length > 0) throw new WorkloadFileError(problems);
  const inputs = specs.map((spec) => {
    const primary = sites.get(spec.primarySite)!;
    return {
      vaultId: primary.vaultId,
      name: spec.name,
      spec: spec as unknown as JsonObject,
      primarySiteId: primary.id,
      replicaSiteId: sites.get(spec.replicaSite)!.id,
    };
  });
  return catalog.applyWorkloads(inputs, now);
}

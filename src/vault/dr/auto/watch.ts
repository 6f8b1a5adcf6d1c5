import type { Catalog, SiteRow } from '../../catalog/index.ts';
import type { PlanSpec } from '../plans/plan-file.ts';
import { autoFailoverOf, witnessSiteName } from './plan-option.ts';

// What a site's agent must watch besides its own workloads' peer sites (which it knows
// from its assignments): the active sites of plans that name it as their third witness
// (`site:<name>`), with the replication address each last reported — the address the
// witness probes (src/dr/agent/peer-watch.ts). Sent in the heartbeat answer as `watch`.

export interface WatchTarget {
  site: string;
  address: string;
}

async function activeSiteIds(catalog: Catalog, spec: PlanSpec): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of spec.groups.flatMap((g) => g.workloads)) {
    const w = await catalog.getWorkloadByName(name).catch(() => undefined);
    if (w) ids.add((await catalog.getFencing(w.id)).activeSiteId);
  }
  return ids;
}

/** The third-witness targets of `site`; [] for most sites (no plan names them). */
export async function watchTargets(catalog: Catalog, site: SiteRow): Promise<WatchTarget[]> {
  const ids = new Set<string>();
  for (const plan of await catalog.listPlans({ vaultId: site.vaultId })) {
    const option = autoFailoverOf(plan.spec);
    if (!option?.witnesses.some((w) => witnessSiteName(w) === site.name)) continue;
    for (const id of await activeSiteIds(catalog, plan.spec as unknown as PlanSpec)) ids.add(id);
  }
  ids.delete(site.id);
  const targets: WatchTarget[] = [];
  for (const id of ids) {
    const peer = await catalog.getSite(id);
    const address = (await catalog.findSiteReport(id))?.inventory.replicationAddress;
    if (typeof address === 'string' && address.length <= 300) targets.push({ site: peer.name, address });
  }
  return targets;
}

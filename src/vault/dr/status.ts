import type { Catalog, JsonObject, ReplicationHealthRow, SiteRow, WorkloadRow } from '../catalog/index.ts';
import { iso } from '../ops/index.ts';
import { TEST_OVERDUE_MS } from './plans/drills.ts';

// What `GET /v1/dr/status` answers: every site (up, down or never heard) with its last
// inventory, and every workload with where it runs, where it replicates, its fencing
// epoch and its replication health — the last recovery point and the current RPO (now
// minus the time of that point).

export type SiteState = 'up' | 'down' | 'never-heard';

export interface SiteStatus {
  name: string;
  vault: string;
  state: SiteState;
  lastHeartbeatAt: string | null;
  downSince: string | null;
  agentRegisteredAt: string | null;
  inventory: JsonObject | null;
}

export interface WorkloadStatus {
  name: string;
  vault: string;
  version: number;
  primarySite: string;
  replicaSite: string;
  /** The site that holds the current fencing epoch: the only one that may run it. */
  activeSite: string;
  fencingEpoch: number;
  frequency: string | null;
  replication: {
    /** The site whose agent reported this (the one replicated to, when it has reported). */
    reportedBy: string;
    reportedAt: string;
    lastPointAt: string | null;
    lastPointId: string | null;
    consistent: boolean;
    lagSeconds: number | null;
    error: string | null;
  } | null;
  /** now − time of the last recovery point, in seconds; null before the first point. */
  rpoSeconds: number | null;
  /** The end of its last successful test failover; null when it never had one. */
  lastTestFailoverAt: string | null;
  /** No successful test failover in the last 90 days. */
  testOverdue: boolean;
}

export interface DrStatus {
  at: string;
  sites: SiteStatus[];
  workloads: WorkloadStatus[];
}

function siteState(site: SiteRow): SiteState {
  if (site.downSince !== null) return 'down';
  return site.lastHeartbeatAt === null ? 'never-heard' : 'up';
}

/** A site as the site routes show it. */
export function siteJson(site: SiteRow, vaultName: string) {
  return {
    id: site.id,
    name: site.name,
    vault: vaultName,
    state: siteState(site),
    createdAt: iso(site.createdAt),
    lastHeartbeatAt: iso(site.lastHeartbeatAt),
    downSince: iso(site.downSince),
  };
}

async function siteStatus(catalog: Catalog, site: SiteRow, vaultName: string): Promise<SiteStatus> {
  const [agent, report] = await Promise.all([
    catalog.findSiteAgentOfSite(site.id),
    catalog.findSiteReport(site.id),
  ]);
  return {
    name: site.name,
    vault: vaultName,
    state: siteState(site),
    lastHeartbeatAt: iso(site.lastHeartbeatAt),
    downSince: iso(site.downSince),
    agentRegisteredAt: iso(agent?.registeredAt ?? null),
    inventory: report?.inventory ?? null,
  };
}

/** The replica's report when there is one (it holds the points), else the other site's. */
function pickHealth(rows: ReplicationHealthRow[], targetSiteId: string): ReplicationHealthRow | undefined {
  return rows.find((r) => r.siteId === targetSiteId) ?? rows[0];
}

async function workloadStatus(
  catalog: Catalog,
  w: WorkloadRow,
  names: ReadonlyMap<string, string>,
  vaultName: string,
  now: number,
  lastTests: ReadonlyMap<string, number>,
): Promise<WorkloadStatus> {
  const lastTest = lastTests.get(w.id) ?? null;
  const fencing = await catalog.getFencing(w.id);
  const target = fencing.activeSiteId === w.primarySiteId ? w.replicaSiteId : w.primarySiteId;
  const health = pickHealth(await catalog.listReplicationHealth(w.id), target);
  const replication = (w.spec.replication ?? {}) as JsonObject;
  return {
    name: w.name,
    vault: vaultName,
    version: w.version,
    primarySite: names.get(w.primarySiteId) ?? w.primarySiteId,
    replicaSite: names.get(w.replicaSiteId) ?? w.replicaSiteId,
    activeSite: names.get(fencing.activeSiteId) ?? fencing.activeSiteId,
    fencingEpoch: fencing.epoch,
    frequency: typeof replication.frequency === 'string' ? replication.frequency : null,
    replication: health
      ? {
          reportedBy: names.get(health.siteId) ?? health.siteId,
          reportedAt: iso(health.reportedAt)!,
          lastPointAt: iso(health.lastPointAt),
          lastPointId: health.lastPointId,
          consistent: health.consistent,
          lagSeconds: health.lagMs === null ? null : Math.round(health.lagMs / 1000),
          error: health.error,
        }
      : null,
    rpoSeconds:
      health?.lastPointAt == null ? null : Math.max(0, Math.round((now - health.lastPointAt) / 1000)),
    lastTestFailoverAt: iso(lastTest),
    testOverdue: lastTest === null || now - lastTest > TEST_OVERDUE_MS,
  };
}

/** Every site and workload the caller may see (one vault's for a scoped token). */
export async function drStatus(catalog: Catalog, scope: string | null, now: number): Promise<DrStatus> {
  const vaults = new Map((await catalog.listVaults()).map((v) => [v.id, v.name]));
  const sites = await catalog.listSites(scope === null ? {} : { vaultId: scope });
  const allSites = scope === null ? sites : await catalog.listSites();
  const names = new Map(allSites.map((s) => [s.id, s.name]));
  const workloads = await catalog.listWorkloads(scope === null ? {} : { vaultId: scope });
  const vaultName = (id: string) => vaults.get(id) ?? id;
  const drills = await catalog.listWorkloadDrills(scope === null ? {} : { vaultId: scope });
  const lastTests = new Map(drills.map((d) => [d.workloadId, d.lastTestAt]));
  return {
    at: new Date(now).toISOString(),
    sites: await Promise.all(sites.map((s) => siteStatus(catalog, s, vaultName(s.vaultId)))),
    workloads: await Promise.all(
      workloads.map((w) => workloadStatus(catalog, w, names, vaultName(w.vaultId), now, lastTests)),
    ),
  };
}

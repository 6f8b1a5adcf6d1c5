import type { Catalog, JsonObject, PlanRow, RunRow, SiteRow, WorkloadRow } from '../../catalog/index.ts';
import type { PlanSpec } from '../plans/plan-file.ts';
import { type Evidence, type WitnessView, witnessVerdict } from './decide.ts';
import { type AutoFailoverSpec, REPLICA_WITNESS, witnessSiteName } from './plan-option.ts';

// What the automatic failover decision is based on, read from the catalog: where the
// plan's workloads are active and when the server last heard that site, the plan's runs,
// and each witness's word on that site — the `peers` list of its last heartbeat's
// inventory (src/dr/agent/peer-watch.ts), ages on the witness's clock turned into times on
// the server's by subtracting them from when the report arrived.

export interface PeerReport {
  site: string;
  /** How long before the report the peer was last heard (or the watch began). */
  silentMs: number;
}

/** The `peers` of a site's inventory, the malformed entries left out. */
export function peerReports(inventory: JsonObject | undefined): PeerReport[] {
  const peers = inventory?.peers;
  if (!Array.isArray(peers)) return [];
  return peers.flatMap((p) => {
    const { site, silentMs } = (p ?? {}) as Record<string, unknown>;
    const ok =
      typeof site === 'string' && typeof silentMs === 'number' && Number.isFinite(silentMs) && silentMs >= 0;
    return ok ? [{ site, silentMs }] : [];
  });
}

interface Placement {
  workloads: WorkloadRow[];
  active: Map<string, string>;
}

async function placement(catalog: Catalog, plan: PlanRow): Promise<Placement | undefined> {
  const spec = plan.spec as unknown as PlanSpec;
  const workloads: WorkloadRow[] = [];
  const active = new Map<string, string>();
  for (const name of spec.groups.flatMap((g) => g.workloads)) {
    const w = await catalog.getWorkloadByName(name).catch(() => undefined);
    if (!w || w.vaultId !== plan.vaultId) return undefined; // the apply or the runner says why
    workloads.push(w);
    active.set(w.id, (await catalog.getFencing(w.id)).activeSiteId);
  }
  return workloads.length > 0 ? { workloads, active } : undefined;
}

function protectedState(p: Placement): Evidence['protectedState'] {
  const actives = new Set(p.active.values());
  const replicas = new Set(p.workloads.map((w) => w.replicaSiteId));
  if (actives.size > 1 || replicas.size > 1) return 'split';
  return p.workloads.every((w) => p.active.get(w.id) === w.primarySiteId) ? 'protected' : 'failed-over';
}

/** When the server last heard a site's agent; undefined when no agent registered (not watched). */
async function lastHeard(catalog: Catalog, site: SiteRow): Promise<number | undefined> {
  const agent = await catalog.findSiteAgentOfSite(site.id);
  return agent ? Math.max(site.lastHeartbeatAt ?? 0, agent.registeredAt) : undefined;
}

async function witnessView(
  catalog: Catalog,
  witness: string,
  site: SiteRow | undefined,
  watched: string,
): Promise<WitnessView> {
  if (!site) return { witness, site: null, reportedAt: null, lastHeardAt: null };
  const report = await catalog.findSiteReport(site.id);
  const peer = peerReports(report?.inventory).find((p) => p.site === watched);
  const reportedAt = report?.reportedAt ?? null;
  return {
    witness,
    site: site.name,
    reportedAt,
    lastHeardAt: reportedAt !== null && peer ? reportedAt - peer.silentMs : null,
  };
}

function runs(list: readonly RunRow[], since: number) {
  const busy = list.find((r) => r.state === 'running' || r.cleanupState === 'running');
  const outage = list.find((r) => r.type === 'unplanned' && r.startedAt >= since);
  return { runInProgress: busy?.id ?? null, outageRun: outage?.id ?? null };
}

/** The evidence for one plan, or undefined when it has nothing to watch (no workloads, no site agent). */
export async function gatherEvidence(
  catalog: Catalog,
  plan: PlanRow,
  option: AutoFailoverSpec,
  now: number,
): Promise<Evidence | undefined> {
  const place = await placement(catalog, plan);
  if (!place) return undefined;
  const sites = await catalog.listSites({ vaultId: plan.vaultId });
  const byId = new Map(sites.map((s) => [s.id, s]));
  let watched: { site: SiteRow; lastHeardAt: number } | undefined;
  for (const id of new Set(place.active.values())) {
    const site = byId.get(id);
    const heard = site && (await lastHeard(catalog, site));
    if (!site || heard === undefined) return undefined;
    if (!watched || heard < watched.lastHeardAt) watched = { site, lastHeardAt: heard };
  }
  if (!watched) return undefined;
  const first = place.workloads[0]!;
  const otherId = watched.site.id === first.primarySiteId ? first.replicaSiteId : first.primarySiteId;
  const witnesses: WitnessView[] = [];
  for (const witness of option.witnesses) {
    const name = witnessSiteName(witness);
    const site =
      witness === REPLICA_WITNESS ? byId.get(otherId) : sites.find((s) => s.name === name && !s.deletedAt);
    witnesses.push(await witnessView(catalog, witness, site, watched.site.name));
  }
  return {
    now,
    option,
    watched: { site: watched.site.name, lastHeardAt: watched.lastHeardAt },
    protectedState: protectedState(place),
    ...runs(await catalog.listRuns({ planId: plan.id, limit: 50 }), watched.lastHeardAt),
    witnesses,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The evidence as the audit log keeps it. */
export function evidenceJson(e: Evidence): JsonObject {
  return {
    at: iso(e.now),
    afterSilenceMs: e.option.afterSilenceMs,
    site: e.watched.site,
    siteLastHeardByServer: iso(e.watched.lastHeardAt),
    silentToServerMs: e.now - e.watched.lastHeardAt,
    protectedState: e.protectedState,
    runInProgress: e.runInProgress,
    witnesses: e.witnesses.map((w) => ({
      witness: w.witness,
      site: w.site,
      reportedAt: iso(w.reportedAt),
      lastHeardSite: iso(w.lastHeardAt),
      verdict: witnessVerdict(w, e.watched.lastHeardAt, e),
    })),
  };
}

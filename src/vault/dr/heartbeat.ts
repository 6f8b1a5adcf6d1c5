import { BadInputError } from '../../errors/index.ts';
import type { Catalog, JsonObject, NewReplicationHealth, SiteRow, WorkloadRow } from '../catalog/index.ts';
import { raiseIfChanged, resolveOpen } from '../ops/index.ts';
import { type WatchTarget, watchTargets } from './auto/watch.ts';

// Site agents' heartbeats and the site-down alert. A heartbeat carries the inventory and
// the replication health of the site's workloads (metadata only) and is answered with
// what the site is assigned: its workloads, their versions, roles and fencing epochs. A
// site silent for longer than the server's limit is marked down with an alert, which the
// next heartbeat resolves.

export const SITE_DOWN_KIND = 'site-down';
const MAX_REPORTED = 1000;

export function siteDownKey(siteId: string): string {
  return `site-down:${siteId}`;
}

export interface HeartbeatInput {
  inventory: JsonObject;
  /** By workload name; workloads not assigned to the site are ignored (the answer tells it). */
  replication: readonly ReportedHealth[];
}

export interface ReportedHealth {
  workload: string;
  lastPointAt: number | null;
  lastPointId: string | null;
  consistent: boolean;
  lagMs: number | null;
  error: string | null;
}

export interface Assignment {
  name: string;
  version: number;
  role: 'primary' | 'replica';
  /** The epoch a site agent must hold to start the workload, and the site holding it. */
  fencingEpoch: number;
  activeSite: string;
  primarySite: string;
  replicaSite: string;
  /** host:port the other site's agent replicates on (its last heartbeat's replicationAddress), or null. */
  peerAddress: string | null;
  spec: JsonObject;
}

function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

function optionalTime(field: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms) || ms < 0) throw bad(field, 'must be an ISO 8601 time or null');
  return ms;
}

function optionalWhole(field: string, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bad(field, 'must be a whole number from 0, or null');
  }
  return value;
}

function optionalText(field: string, value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw bad(field, `must be text of 1 to ${max} characters, or null`);
  }
  return value;
}

function reportedHealth(value: unknown, i: number): ReportedHealth {
  const at = `replication[${i}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(at, 'must be an object');
  const fields = value as Record<string, unknown>;
  if (typeof fields.workload !== 'string') throw bad(`${at}.workload`, 'must be a workload name');
  if (typeof fields.consistent !== 'boolean') throw bad(`${at}.consistent`, 'must be true or false');
  return {
    workload: fields.workload,
    lastPointAt: optionalTime(`${at}.lastPointAt`, fields.lastPointAt),
    lastPointId: optionalText(`${at}.lastPointId`, fields.lastPointId, 200),
    consistent: fields.consistent,
    lagMs: optionalWhole(`${at}.lagMs`, fields.lagMs),
    error: optionalText(`${at}.error`, fields.error, 2000),
  };
}

/** The checked body of a heartbeat. */
export function checkHeartbeat(body: unknown): HeartbeatInput {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { inventory, replication } = fields;
  if (typeof inventory !== 'object' || inventory === null || Array.isArray(inventory)) {
    throw bad('inventory', 'must be an object');
  }
  const list = replication ?? [];
  if (!Array.isArray(list) || list.length > MAX_REPORTED) {
    throw bad('replication', `must be a list of at most ${MAX_REPORTED} entries`);
  }
  return { inventory: inventory as JsonObject, replication: list.map(reportedHealth) };
}

/** What the peer site's agent last reported as its replication address (metadata only). */
async function peerAddress(catalog: Catalog, peerSiteId: string): Promise<string | null> {
  const address = (await catalog.findSiteReport(peerSiteId))?.inventory.replicationAddress;
  return typeof address === 'string' && address.length <= 300 ? address : null;
}

async function assignment(catalog: Catalog, site: SiteRow, w: WorkloadRow, names: Map<string, string>) {
  const fencing = await catalog.getFencing(w.id);
  const name = async (id: string) => {
    if (!names.has(id)) names.set(id, (await catalog.getSite(id)).name);
    return names.get(id)!;
  };
  return {
    name: w.name,
    version: w.version,
    role: w.primarySiteId === site.id ? 'primary' : 'replica',
    fencingEpoch: fencing.epoch,
    activeSite: await name(fencing.activeSiteId),
    primarySite: await name(w.primarySiteId),
    replicaSite: await name(w.replicaSiteId),
    peerAddress: await peerAddress(catalog, w.primarySiteId === site.id ? w.replicaSiteId : w.primarySiteId),
    spec: w.spec,
  } satisfies Assignment;
}

/** The workloads a site runs or replicates, as its agent needs them. */
export async function assignments(catalog: Catalog, site: SiteRow): Promise<Assignment[]> {
  const names = new Map<string, string>();
  const workloads = await catalog.listWorkloads({ siteId: site.id });
  const result: Assignment[] = [];
  for (const w of workloads) result.push(await assignment(catalog, site, w, names));
  return result;
}

/** Records a heartbeat; a site that was down is up again and its alert resolved. */
export async function recordHeartbeat(
  catalog: Catalog,
  site: SiteRow,
  input: HeartbeatInput,
  now: number,
): Promise<{ site: SiteRow; workloads: Assignment[]; watch: WatchTarget[] }> {
  const workloads = await catalog.listWorkloads({ siteId: site.id });
  const ids = new Map(workloads.map((w) => [w.name, w.id]));
  const health: NewReplicationHealth[] = input.replication
    .filter((h) => ids.has(h.workload))
    .map(({ workload, ...rest }) => ({ workloadId: ids.get(workload)!, ...rest }));
  let updated = await catalog.recordSiteReport({
    siteId: site.id,
    at: now,
    inventory: input.inventory,
    health,
  });
  if (updated.downSince !== null) {
    updated = await catalog.transaction(async (tx) => {
      await resolveOpen(tx, site.vaultId, siteDownKey(site.id), now);
      return tx.setSiteDown(site.id, null);
    });
  }
  // watch: peers to probe for automatic failover's third witness (./auto/watch.ts).
  return {
    site: updated,
    workloads: await assignments(catalog, updated),
    watch: await watchTargets(catalog, updated),
  };
}

/**
 * Marks down (with a critical alert) every site whose agent registered but has been
 * silent longer than silenceMs; resolves the alert of a site heard from again since.
 */
export async function checkSiteSilence(catalog: Catalog, now: number, silenceMs: number): Promise<SiteRow[]> {
  const marked: SiteRow[] = [];
  for (const site of await catalog.listSites()) {
    const agent = await catalog.findSiteAgentOfSite(site.id);
    if (!agent) continue;
    const lastHeard = Math.max(site.lastHeartbeatAt ?? 0, agent.registeredAt);
    const silent = now - lastHeard > silenceMs;
    if (silent && site.downSince === null) {
      marked.push(await markDown(catalog, site, lastHeard, now));
    } else if (!silent && site.downSince !== null) {
      await resolveOpen(catalog, site.vaultId, siteDownKey(site.id), now);
      await catalog.setSiteDown(site.id, null);
    }
  }
  return marked;
}

async function markDown(catalog: Catalog, site: SiteRow, lastHeard: number, now: number): Promise<SiteRow> {
  const since = new Date(lastHeard).toISOString();
  return catalog.transaction(async (tx) => {
    await raiseIfChanged(tx, {
      vaultId: site.vaultId,
      serverId: null,
      kind: SITE_DOWN_KIND,
      severity: 'critical',
      message: `site "${site.name}" is down: its site agent has not been heard from since ${since}`,
      dedupeKey: siteDownKey(site.id),
      raisedAt: now,
    });
    return tx.setSiteDown(site.id, now);
  });
}

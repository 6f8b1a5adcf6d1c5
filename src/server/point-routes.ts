import { BadInputError, ConflictError } from '../errors/index.ts';
import type { PointRow, ServerRow, VaultRow } from '../vault/catalog/index.ts';
import { DEFAULT_GC_OPTIONS } from '../vault/gc/index.ts';
import { policyJson, retentionReductions, storedPolicy, validatePolicy } from '../vault/policy.ts';
import { saveVaultRecord } from '../vault/records.ts';
import { DAY_MS, undeletePoint } from '../vault/retention/index.ts';
import { computeUsage, explain, type ServerUsage, usageHistory } from '../vault/usage/index.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';
import { serverOfVault, vaultJson, visibleVault } from './vault-routes.ts';

// A vault's backup policy and lock, its recovery points (list, undelete) and its usage.
// Retention and garbage collection themselves run in the background (retention-tasks.ts).

const KIB = 1024;
const POINT_STATES = ['active', 'soft-deleted', 'deleted', 'all'] as const;
const DEFAULT_HISTORY_DAYS = 30;
const MAX_HISTORY_DAYS = 3660;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function policyBody(vault: VaultRow) {
  return { vault: vault.name, immutable: vault.immutable, policy: vault.policy };
}

async function showPolicy(ctx: RequestContext): Promise<RouteResult> {
  return { body: policyBody(await visibleVault(ctx)) };
}

/** An immutable vault refuses a policy that would keep fewer points (DESIGN.md §2.3). */
async function setPolicy(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const vault = await visibleVault(ctx);
  const policy = validatePolicy(ctx.body);
  const updated = await catalog.transaction(async (tx) => {
    const current = await tx.getVault(vault.id);
    if (current.immutable) {
      const shrinks = retentionReductions(storedPolicy(current.policy), policy);
      if (shrinks.length > 0) {
        throw new ConflictError(
          'RETENTION_REDUCTION',
          `vault ${vault.name} is immutable: this policy would reduce retention (${shrinks.join('; ')})`,
          { hint: 'an immutable vault only accepts policies that keep at least as many recovery points' },
        );
      }
    }
    return tx.updateVault(vault.id, { policy: policyJson(policy) });
  });
  await saveVaultRecord(ctx.services.regionStore(updated.region), updated, ctx.services.now());
  return { body: policyBody(updated) };
}

async function lockVault(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  if (vault.immutable) return { body: vaultJson(vault) };
  const locked = await ctx.services.catalog.updateVault(vault.id, { immutable: true });
  await saveVaultRecord(ctx.services.regionStore(locked.region), locked, ctx.services.now());
  return { body: vaultJson(locked) };
}

function stateOf(point: PointRow): string {
  if (point.deletedAt !== null) return 'deleted';
  return point.softDeletedAt === null ? 'active' : 'soft-deleted';
}

export function pointJson(point: PointRow, server: string, vault: VaultRow) {
  const deleteAfter =
    point.softDeletedAt === null ? null : point.softDeletedAt + vault.softDeleteDays * DAY_MS;
  const added = point.stats.bytesAddedStored;
  return {
    id: point.id,
    server,
    serverId: point.serverId,
    snapshot: point.snapshotName,
    time: iso(point.time),
    committedAt: iso(point.committedAt),
    state: stateOf(point),
    softDeletedAt: iso(point.softDeletedAt),
    deleteAfter: point.deletedAt === null ? iso(deleteAfter) : null,
    deletedAt: iso(point.deletedAt),
    bytesAdded: typeof added === 'number' ? added : 0,
    packs: point.packCount,
    stats: point.stats,
  };
}

/** The server a `?server=` names (by name or id), or undefined when none is asked. */
async function serverParam(ctx: RequestContext, vault: VaultRow): Promise<ServerRow | undefined> {
  const wanted = ctx.query.get('server');
  return wanted === null ? undefined : serverOfVault(ctx, vault, wanted);
}

async function listPoints(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const vault = await visibleVault(ctx);
  const state = ctx.query.get('state') ?? 'active';
  if (!(POINT_STATES as readonly string[]).includes(state)) {
    throw new BadInputError('BAD_QUERY', `state: one of ${POINT_STATES.join(', ')}`);
  }
  const options = { state: state as (typeof POINT_STATES)[number] };
  const server = await serverParam(ctx, vault);
  const names = new Map((await catalog.listServers(vault.id)).map((s) => [s.id, s.name]));
  const points = server
    ? await catalog.listPoints(server.id, options)
    : await catalog.listVaultPoints(vault.id, options);
  return {
    body: { vault: vault.name, points: points.map((p) => pointJson(p, names.get(p.serverId) ?? '', vault)) },
  };
}

async function undelete(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const vault = await visibleVault(ctx);
  const region = ctx.services.regionStore(vault.region);
  const point = await undeletePoint(catalog, region, vault, ctx.params.id!, ctx.services.now());
  const server = await catalog.getServer(point.serverId);
  return { body: pointJson(point, server.name, vault) };
}

function historyDays(ctx: RequestContext): number {
  const text = ctx.query.get('days');
  if (text === null) return DEFAULT_HISTORY_DAYS;
  const days = /^\d{1,4}$/.test(text) ? Number(text) : 0;
  if (days < 1 || days > MAX_HISTORY_DAYS) {
    throw new BadInputError('BAD_QUERY', `days: a whole number from 1 to ${MAX_HISTORY_DAYS}`);
  }
  return days;
}

function explained(
  vault: VaultRow,
  u: Pick<ServerUsage, 'protectedBytes' | 'storedBytes' | 'breakdown'>,
  points: number,
) {
  return explain({
    ...u,
    points,
    softDeleteDays: vault.softDeleteDays,
    graceHours: DEFAULT_GC_OPTIONS.graceMs / 3_600_000,
    unreferencedDays: DEFAULT_GC_OPTIONS.unreferencedAgeMs / DAY_MS,
  });
}

function serverUsageJson(vault: VaultRow, s: ServerUsage) {
  return {
    ...s,
    explanations: explained(vault, s, s.points.length),
    points: s.points.map((p) => ({ ...p, time: iso(p.time) })),
  };
}

async function showUsage(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const vault = await visibleVault(ctx);
  const server = await serverParam(ctx, vault);
  const days = historyDays(ctx);
  const usage = await computeUsage(catalog, ctx.services.regionStore(vault.region), vault, now());
  const servers = usage.servers.filter((s) => !server || s.serverId === server.id);
  const history = await usageHistory(catalog, vault.id, usage.at, days, server?.id ?? null);
  const points = usage.servers.reduce((n, s) => n + s.points.length, 0);
  return {
    body: {
      vault: vault.name,
      at: iso(usage.at),
      protectedBytes: usage.protectedBytes,
      storedBytes: usage.storedBytes,
      breakdown: usage.breakdown,
      explanations: explained(vault, usage, points),
      servers: servers.map((s) => serverUsageJson(vault, s)),
      history: history.map((h) => ({
        day: h.day,
        server: h.serverId,
        protectedBytes: h.protectedBytes,
        storedBytes: h.storedBytes,
        breakdown: h.breakdown,
      })),
    },
  };
}

const POLICY_SCHEMA: Schema = {
  type: 'object',
  required: ['schedule', 'retention'],
  properties: {
    version: { const: 1 },
    schedule: {
      type: 'object',
      required: ['times'],
      properties: {
        times: { type: 'array', items: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' } },
        days: {
          oneOf: [
            { const: 'daily' },
            { type: 'array', items: { enum: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] } },
          ],
        },
        timeZone: { type: 'string', description: 'IANA time zone, default UTC' },
      },
    },
    retention: {
      type: 'object',
      properties: {
        daily: { type: 'integer', minimum: 0 },
        weekly: { type: 'integer', minimum: 0 },
        monthly: { type: 'integer', minimum: 0 },
        yearly: { type: 'integer', minimum: 0 },
        last: { type: 'integer', minimum: 0 },
      },
    },
    sources: {
      type: 'object',
      required: ['paths'],
      properties: {
        paths: {
          type: 'array',
          maxItems: 100,
          items: { type: 'string', description: 'absolute path on the agent' },
        },
        excludes: { type: 'array', maxItems: 1000, items: { type: 'string' } },
      },
    },
  },
};

const POLICY_ANSWER: Schema = {
  type: 'object',
  properties: {
    vault: { type: 'string' },
    immutable: { type: 'boolean' },
    policy: { oneOf: [POLICY_SCHEMA, { type: 'null' }] },
  },
};

const POINT_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    server: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    state: { enum: ['active', 'soft-deleted', 'deleted'] },
    deleteAfter: { type: ['string', 'null'], format: 'date-time' },
    bytesAdded: { type: 'integer' },
    stats: { type: 'object' },
  },
};

const vaultRoute = (path: string) => `/v1/vaults/:name${path}`;

export const POINT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: vaultRoute('/policy'),
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: "Show the vault's backup policy (schedule and retention)",
    tag: 'policy',
    response: { status: 200, schema: POLICY_ANSWER },
    handler: showPolicy,
  },
  {
    method: 'PUT',
    path: vaultRoute('/policy'),
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 16 * KIB,
    summary: 'Set the backup policy; an immutable vault refuses one that reduces retention (409)',
    tag: 'policy',
    requestBody: POLICY_SCHEMA,
    response: { status: 200, schema: POLICY_ANSWER },
    handler: setPolicy,
  },
  {
    method: 'POST',
    path: vaultRoute('/lock'),
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'Make the vault immutable for good: retention can never be reduced again',
    tag: 'policy',
    response: { status: 200, schema: { type: 'object' } },
    handler: lockVault,
  },
  {
    method: 'GET',
    path: vaultRoute('/points'),
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List recovery points (?server=S, ?state=active|soft-deleted|deleted|all)',
    tag: 'points',
    response: {
      status: 200,
      schema: { type: 'object', properties: { points: { type: 'array', items: POINT_SCHEMA } } },
    },
    handler: listPoints,
  },
  {
    method: 'POST',
    path: vaultRoute('/points/:id/undelete'),
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Bring a soft-deleted recovery point back',
    tag: 'points',
    response: { status: 200, schema: POINT_SCHEMA },
    handler: undelete,
  },
  {
    method: 'GET',
    path: vaultRoute('/usage'),
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Protected and stored bytes, why they differ, and history (?server=S, ?days=N)',
    tag: 'usage',
    response: { status: 200, schema: { type: 'object' } },
    handler: showUsage,
  },
];

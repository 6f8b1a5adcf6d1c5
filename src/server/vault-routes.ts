import { BadInputError, NotFoundError } from '../errors/index.ts';
import type { ServerRow, TokenRow, VaultRow } from '../vault/catalog/index.ts';
import { DEFAULT_SOFT_DELETE_DAYS } from '../vault/catalog/index.ts';
import { type ReplicationLag, regionHealth, replicationLag } from '../vault/geo/index.ts';
import { saveVaultRecord } from '../vault/records.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// The admin routes over vaults. Input is checked here, before the catalog, so every
// refusal names the field and nothing half-valid reaches storage.

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]{1,49}$/;
const MAX_SOFT_DELETE_DAYS = 3650;
const CREATE_FIELDS = new Set(['name', 'region', 'quotaBytes', 'softDeleteDays', 'secondaryRegion']);

export const VAULT_SCHEMA: Schema = {
  type: 'object',
  required: [
    'id',
    'name',
    'region',
    'secondaryRegion',
    'quotaBytes',
    'softDeleteDays',
    'immutable',
    'createdAt',
    'deletedAt',
  ],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    region: { type: 'string' },
    secondaryRegion: {
      type: ['string', 'null'],
      description: 'the region a copy is replicated to (reads fall back to it); null: none',
    },
    quotaBytes: { type: ['integer', 'null'] },
    softDeleteDays: { type: 'integer' },
    immutable: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    deletedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const CREATE_SCHEMA: Schema = {
  type: 'object',
  required: ['name', 'region'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: NAME.source },
    region: { type: 'string', description: 'one of the regions the server was started with' },
    quotaBytes: { type: ['integer', 'null'], minimum: 1 },
    softDeleteDays: { type: 'integer', minimum: 1, maximum: MAX_SOFT_DELETE_DAYS },
    secondaryRegion: { type: 'string', description: 'another configured region, to keep a copy in' },
  },
};

const CHANGE_SCHEMA: Schema = {
  type: 'object',
  required: ['secondaryRegion'],
  additionalProperties: false,
  properties: {
    secondaryRegion: {
      type: ['string', 'null'],
      description: 'another configured region to replicate to; null stops replicating',
    },
  },
};

const TIME_OR_NULL: Schema = { type: ['string', 'null'], format: 'date-time' };

const REPLICATION_SCHEMA: Schema = {
  type: ['object', 'null'],
  description:
    'null without a secondary region. Pending: what the last cycle could not copy plus the packs recorded since it listed (smaller objects written since are counted by the next cycle).',
  properties: {
    secondaryRegion: { type: 'string' },
    checkedAt: { ...TIME_OR_NULL, description: 'when the last complete comparison listed the primary' },
    lastRunAt: TIME_OR_NULL,
    syncedAt: { ...TIME_OR_NULL, description: 'all the primary held then is in the secondary' },
    pendingObjects: { type: 'integer' },
    pendingBytes: { type: 'integer' },
    oldestPendingAt: TIME_OR_NULL,
    oldestPendingAgeSeconds: { type: ['integer', 'null'] },
    lastRun: { type: ['object', 'null'] },
    problems: { type: 'array', items: { type: 'string' } },
    primaryUnreachableSince: {
      ...TIME_OR_NULL,
      description: "this server's view: since when reads of the region fail and go to the secondary",
    },
  },
};

const SHOW_SCHEMA: Schema = {
  ...VAULT_SCHEMA,
  properties: { ...(VAULT_SCHEMA.properties as Schema), replication: REPLICATION_SCHEMA },
};

export function vaultJson(vault: VaultRow) {
  return {
    id: vault.id,
    name: vault.name,
    region: vault.region,
    secondaryRegion: vault.secondaryRegion,
    quotaBytes: vault.quotaBytes,
    softDeleteDays: vault.softDeleteDays,
    immutable: vault.immutable,
    createdAt: new Date(vault.createdAt).toISOString(),
    deletedAt: vault.deletedAt === null ? null : new Date(vault.deletedAt).toISOString(),
  };
}

function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

type CreateInput = {
  name: string;
  region: string;
  quotaBytes: number | null;
  softDeleteDays: number;
  secondaryRegion: string | null;
};

function positiveInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

function knownRegion(field: string, value: unknown, regions: readonly string[]): string {
  if (typeof value !== 'string') throw bad(field, `must be one of ${regions.join(', ')}`);
  if (!regions.includes(value)) {
    throw new BadInputError('UNKNOWN_REGION', `the server has no region "${value}"`, {
      hint: `use one of ${regions.join(', ')}`,
    });
  }
  return value;
}

/** null, or a configured region other than the vault's own. */
function secondaryRegionOf(value: unknown, region: string, regions: readonly string[]): string | null {
  if (value === null) return null;
  const secondary = knownRegion('secondaryRegion', value, regions);
  if (secondary === region) {
    throw new BadInputError(
      'SECONDARY_IS_PRIMARY',
      `region "${region}" cannot be its own vault's secondary`,
      {
        hint: `give another region than "${region}": the copy must survive losing the vault's region`,
      },
    );
  }
  return secondary;
}

function bodyObject(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', `send a JSON object ${shape}`);
  }
  return body as Record<string, unknown>;
}

/** Soft delete cannot be turned off at creation: that is a destructive change of its own. */
function parseCreate(body: unknown, regions: readonly string[]): CreateInput {
  const input = bodyObject(body, '{name, region, quotaBytes?, softDeleteDays?, secondaryRegion?}');
  const unknown = Object.keys(input).filter((k) => !CREATE_FIELDS.has(k));
  if (unknown.length > 0) throw bad(unknown[0]!, 'unknown field');
  const { name, quotaBytes = null, softDeleteDays = DEFAULT_SOFT_DELETE_DAYS } = input;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw bad('name', '2 to 50 letters, digits and hyphens, starting with a letter or digit');
  }
  const region = knownRegion('region', input.region, regions);
  const secondaryRegion = secondaryRegionOf(input.secondaryRegion ?? null, region, regions);
  if (quotaBytes !== null && !positiveInteger(quotaBytes)) throw bad('quotaBytes', 'a positive whole number');
  if (!positiveInteger(softDeleteDays, MAX_SOFT_DELETE_DAYS)) {
    throw bad('softDeleteDays', `a whole number from 1 to ${MAX_SOFT_DELETE_DAYS}`);
  }
  return { name, region, quotaBytes, softDeleteDays, secondaryRegion };
}

/** A token scoped to one vault sees that vault only; another vault is "not found" to it. */
export async function visibleVault(ctx: RequestContext): Promise<VaultRow> {
  const vault = await ctx.services.catalog.getVaultByName(ctx.params.name!);
  const scope = ctx.token?.vaultId ?? null;
  if (scope !== null && scope !== vault.id) {
    throw new NotFoundError('VAULT_NOT_FOUND', `no vault named "${vault.name}"`);
  }
  return vault;
}

/** A registered server of the vault, by name or id. */
export async function serverOfVault(
  ctx: RequestContext,
  vault: VaultRow,
  wanted: string,
): Promise<ServerRow> {
  const servers = await ctx.services.catalog.listServers(vault.id);
  const server = servers.find((s) => s.name === wanted) ?? servers.find((s) => s.id === wanted);
  if (!server) {
    throw new NotFoundError('SERVER_NOT_FOUND', `vault ${vault.name} has no registered server "${wanted}"`);
  }
  return server;
}

function unscoped(token: TokenRow | undefined): void {
  if (token?.vaultId != null) throw forbidden('a token scoped to one vault cannot create vaults');
}

async function createVault(ctx: RequestContext): Promise<RouteResult> {
  unscoped(ctx.token);
  const input = parseCreate(
    ctx.body,
    ctx.services.regions.map((r) => r.name),
  );
  const now = ctx.services.now();
  const vault = await ctx.services.catalog.createVault({ ...input, createdAt: now });
  await saveVaultRecord(ctx.services.regionStore(vault.region), vault, now);
  return { status: 201, body: vaultJson(vault) };
}

async function listVaults(ctx: RequestContext): Promise<RouteResult> {
  const scope = ctx.token?.vaultId ?? null;
  const vaults = await ctx.services.catalog.listVaults();
  return { body: { vaults: vaults.filter((v) => scope === null || v.id === scope).map(vaultJson) } };
}

function iso(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

function replicationJson(lag: ReplicationLag, now: number, primaryDownSince: number | null) {
  return {
    secondaryRegion: lag.secondaryRegion,
    checkedAt: iso(lag.checkedAt),
    lastRunAt: iso(lag.lastRunAt),
    syncedAt: iso(lag.syncedAt),
    pendingObjects: lag.pendingObjects,
    pendingBytes: lag.pendingBytes,
    oldestPendingAt: iso(lag.oldestPendingAt),
    oldestPendingAgeSeconds:
      lag.oldestPendingAt === null ? null : Math.max(0, Math.round((now - lag.oldestPendingAt) / 1000)),
    lastRun: lag.lastRun,
    problems: lag.problems,
    primaryUnreachableSince: iso(primaryDownSince),
  };
}

/** Since when this server finds the vault's region down (null: up, or not a region it has). */
function primaryDownSince(ctx: RequestContext, vault: VaultRow): number | null {
  if (!ctx.services.regions.some((r) => r.name === vault.region)) return null;
  return regionHealth(ctx.services.regionStore(vault.region)).downSince;
}

async function showVault(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const lag = await replicationLag(ctx.services.catalog, vault);
  const replication = lag && replicationJson(lag, ctx.services.now(), primaryDownSince(ctx, vault));
  return { body: { ...vaultJson(vault), replication } };
}

/** Only the secondary region changes here (owner): it starts or stops replication. */
async function changeVault(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const input = bodyObject(ctx.body, '{secondaryRegion}');
  const unknown = Object.keys(input).filter((k) => k !== 'secondaryRegion');
  if (unknown.length > 0) throw bad(unknown[0]!, 'unknown field');
  if (!('secondaryRegion' in input)) throw bad('secondaryRegion', 'give a region, or null for none');
  const regions = ctx.services.regions.map((r) => r.name);
  const secondaryRegion = secondaryRegionOf(input.secondaryRegion, vault.region, regions);
  const now = ctx.services.now();
  const changed = await ctx.services.catalog.updateVault(vault.id, { secondaryRegion });
  await saveVaultRecord(ctx.services.regionStore(changed.region), changed, now);
  return { body: vaultJson(changed) };
}

async function deleteVault(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const now = ctx.services.now();
  const deleted = await ctx.services.catalog.deleteVault(vault.id, now);
  await saveVaultRecord(ctx.services.regionStore(deleted.region), deleted, now);
  return { body: vaultJson(deleted) };
}

const KIB = 1024;

export const VAULT_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/vaults',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 16 * KIB,
    summary: 'Create a vault in a configured region',
    tag: 'vaults',
    requestBody: CREATE_SCHEMA,
    response: { status: 201, schema: VAULT_SCHEMA },
    handler: createVault,
  },
  {
    method: 'GET',
    path: '/v1/vaults',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List vaults that are not deleted',
    tag: 'vaults',
    response: {
      status: 200,
      schema: { type: 'object', properties: { vaults: { type: 'array', items: VAULT_SCHEMA } } },
    },
    handler: listVaults,
  },
  {
    method: 'GET',
    path: '/v1/vaults/:name',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary:
      'Show one vault (soft-deleted ones too, with deletedAt set), with the lag of its copy in the secondary region',
    tag: 'vaults',
    response: { status: 200, schema: SHOW_SCHEMA },
    handler: showVault,
  },
  {
    method: 'PATCH',
    path: '/v1/vaults/:name',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 16 * KIB,
    summary:
      'Set or clear the secondary region of a vault (another configured region: 400 SECONDARY_IS_PRIMARY, UNKNOWN_REGION)',
    tag: 'vaults',
    requestBody: CHANGE_SCHEMA,
    response: { status: 200, schema: VAULT_SCHEMA },
    handler: changeVault,
  },
  {
    method: 'DELETE',
    path: '/v1/vaults/:name',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'Soft-delete a vault: it is kept for its soft-delete days',
    tag: 'vaults',
    response: { status: 200, schema: VAULT_SCHEMA },
    handler: deleteVault,
  },
];

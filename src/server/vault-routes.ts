import { BadInputError, NotFoundError } from '../errors/index.ts';
import type { TokenRow, VaultRow } from '../vault/catalog/index.ts';
import { DEFAULT_SOFT_DELETE_DAYS } from '../vault/catalog/index.ts';
import { saveVaultRecord } from '../vault/records.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// The admin routes over vaults. Input is checked here, before the catalog, so every
// refusal names the field and nothing half-valid reaches storage.

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]{1,49}$/;
const MAX_SOFT_DELETE_DAYS = 3650;
const CREATE_FIELDS = new Set(['name', 'region', 'quotaBytes', 'softDeleteDays']);

export const VAULT_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'name', 'region', 'quotaBytes', 'softDeleteDays', 'immutable', 'createdAt', 'deletedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    region: { type: 'string' },
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
  },
};

export function vaultJson(vault: VaultRow) {
  return {
    id: vault.id,
    name: vault.name,
    region: vault.region,
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

type CreateInput = { name: string; region: string; quotaBytes: number | null; softDeleteDays: number };

function positiveInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

/** Soft delete cannot be turned off at creation: that is a destructive change of its own. */
function parseCreate(body: unknown, regions: readonly string[]): CreateInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', 'send a JSON object {name, region, quotaBytes?, softDeleteDays?}');
  }
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !CREATE_FIELDS.has(k));
  if (unknown.length > 0) throw bad(unknown[0]!, 'unknown field');
  const { name, region, quotaBytes = null, softDeleteDays = DEFAULT_SOFT_DELETE_DAYS } = input;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw bad('name', '2 to 50 letters, digits and hyphens, starting with a letter or digit');
  }
  if (typeof region !== 'string') throw bad('region', `must be one of ${regions.join(', ')}`);
  if (!regions.includes(region)) {
    throw new BadInputError('UNKNOWN_REGION', `the server has no region "${region}"`, {
      hint: `use one of ${regions.join(', ')}`,
    });
  }
  if (quotaBytes !== null && !positiveInteger(quotaBytes)) throw bad('quotaBytes', 'a positive whole number');
  if (!positiveInteger(softDeleteDays, MAX_SOFT_DELETE_DAYS)) {
    throw bad('softDeleteDays', `a whole number from 1 to ${MAX_SOFT_DELETE_DAYS}`);
  }
  return { name, region, quotaBytes, softDeleteDays };
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

async function showVault(ctx: RequestContext): Promise<RouteResult> {
  return { body: vaultJson(await visibleVault(ctx)) };
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
    summary: 'Show one vault (soft-deleted ones too, with deletedAt set)',
    tag: 'vaults',
    response: { status: 200, schema: VAULT_SCHEMA },
    handler: showVault,
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

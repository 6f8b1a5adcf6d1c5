import { BadInputError } from '../errors/index.ts';
import { promoteSecondary } from '../vault/geo/index.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';
import { VAULT_SCHEMA, vaultJson, visibleVault } from './vault-routes.ts';

// Geo-redundancy operations on a vault: promoting its secondary region after losing the
// primary (src/vault/geo/promote.ts). Owner only: it moves where the vault's data lives.

const PROMOTE_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    force: {
      type: 'boolean',
      description:
        'promote even when the secondary lacks recovery points or packs the catalog knows (they are recorded as lost)',
    },
  },
};

const PROMOTION_SCHEMA: Schema = {
  type: 'object',
  required: ['vault', 'previousRegion', 'forced', 'lostPoints', 'lostPacks', 'lostBytes'],
  properties: {
    vault: VAULT_SCHEMA,
    previousRegion: { type: 'string', description: 'the lost primary: no longer written or replicated to' },
    forced: { type: 'boolean' },
    lostPoints: { type: 'integer', description: 'recovery points the secondary lacked, now deleted' },
    lostPacks: { type: 'integer' },
    lostBytes: { type: 'integer' },
    lastComparedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

function forceOf(body: unknown): boolean {
  if (body === undefined) return false;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', 'send a JSON object {force?}');
  }
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((k) => k !== 'force');
  if (unknown !== undefined) throw new BadInputError('BAD_FIELD', `${unknown}: unknown field`);
  if (input.force !== undefined && typeof input.force !== 'boolean') {
    throw new BadInputError('BAD_FIELD', 'force: true or false');
  }
  return input.force === true;
}

async function promote(ctx: RequestContext): Promise<RouteResult> {
  const force = forceOf(ctx.body);
  const vault = await visibleVault(ctx);
  const now = ctx.services.now();
  const done = await promoteSecondary(ctx.services.catalog, vault, ctx.services.regionStore, now, { force });
  const { inventory } = done;
  ctx.services.log({
    msg: 'secondary region promoted',
    vault: vault.name,
    from: done.previousRegion,
    to: done.vault.region,
    forced: force,
    lostPoints: done.lostPoints,
    lostPacks: done.lostPacks,
  });
  return {
    body: {
      vault: vaultJson(done.vault),
      previousRegion: done.previousRegion,
      forced: force,
      lostPoints: done.lostPoints,
      lostPacks: done.lostPacks,
      lostBytes: inventory.missingPackBytes,
      lastComparedAt:
        inventory.lastComparedAt === null ? null : new Date(inventory.lastComparedAt).toISOString(),
    },
  };
}

export const GEO_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/vaults/:name/promote-secondary',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 1024,
    summary:
      'Make the secondary region the vault’s region after losing the primary (409 SECONDARY_NOT_CAUGHT_UP unless force; NO_SECONDARY_REGION)',
    tag: 'vaults',
    requestBody: PROMOTE_SCHEMA,
    response: { status: 200, schema: PROMOTION_SCHEMA },
    handler: promote,
  },
];

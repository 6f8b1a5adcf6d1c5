import { BadInputError, ConflictError, NotFoundError } from '../errors/index.ts';
import { type BlobStore, httpProtocol } from '../storage/index.ts';
import {
  keepRetiredKey,
  listRetiredKeys,
  type RetiredKey,
  restoreRetiredKey,
} from '../vault/retired-keys.ts';
import { agentOf, agentStore } from './data-objects.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';
import { serverOfVault, visibleVault } from './vault-routes.ts';

// A passphrase change retires the key slot of the old passphrase (no data is rewritten).
// Agents cannot delete their repository's objects, and a key slot is no exception in
// effect: the vault moves it out of the agent's reach instead (../vault/retired-keys.ts).
// So an intruder on the server who changes the passphrase cannot lock the owner out of
// the backups: an administrator can put the old slot back for the vault's soft-delete
// days, after which retention deletes it. The last slot is never retired.

const { KEYS_PATH } = httpProtocol;
const KEY_ID = /^[0-9a-f]{64}$/;

async function keySlotNames(store: BlobStore): Promise<string[]> {
  const names: string[] = [];
  for await (const object of store.list('keys/')) names.push(object.name);
  return names;
}

async function retireKey(ctx: RequestContext): Promise<RouteResult> {
  const id = ctx.params.id ?? '';
  if (!KEY_ID.test(id)) {
    throw new BadInputError('BAD_KEY_ID', 'a key slot id is 64 lowercase hex digits', {
      hint: 'the id is the name of the slot under keys/ (offsite key list)',
    });
  }
  const { vault, server } = agentOf(ctx);
  const store = agentStore(ctx);
  const name = `keys/${id}`;
  const slots = await keySlotNames(store);
  if (!slots.includes(name)) {
    throw new NotFoundError('KEY_NOT_FOUND', `this repository has no key slot ${id.slice(0, 8)}`);
  }
  if (slots.length < 2) {
    throw new ConflictError(
      'LAST_KEY',
      'refusing to retire the only key slot: nothing could open the backups',
      {
        hint: 'add the new key slot first, then retire the old one',
      },
    );
  }
  const region = ctx.services.regionStore(vault.region);
  await keepRetiredKey(region, vault, server.id, id, await store.get(name), ctx.services.now());
  await store.delete(name);
  return { body: { retired: id } };
}

function retiredKeyJson(key: RetiredKey) {
  return {
    id: key.id,
    retiredAt: new Date(key.retiredAt).toISOString(),
    expiresAt: new Date(key.expiresAt).toISOString(),
  };
}

async function retiredKeysOf(ctx: RequestContext) {
  const vault = await visibleVault(ctx);
  const server = await serverOfVault(ctx, vault, ctx.params.server!);
  return { vault, server, region: ctx.services.regionStore(vault.region) };
}

async function listRetired(ctx: RequestContext): Promise<RouteResult> {
  const { vault, server, region } = await retiredKeysOf(ctx);
  const keys = await listRetiredKeys(region, vault, server.id, ctx.services.now());
  return { body: { server: server.name, keys: keys.map(retiredKeyJson) } };
}

/** For the owner whose passphrase an intruder changed: the old one opens the backups again. */
async function restoreRetired(ctx: RequestContext): Promise<RouteResult> {
  const { vault, server, region } = await retiredKeysOf(ctx);
  await restoreRetiredKey(region, vault, server.id, ctx.params.id!);
  return { body: { restored: ctx.params.id, server: server.name } };
}

const RETIRED_KEY: Schema = {
  type: 'object',
  properties: { id: { type: 'string' }, retiredAt: { type: 'string' }, expiresAt: { type: 'string' } },
};

export const KEY_ROUTES: readonly Route[] = [
  {
    method: 'DELETE',
    path: `${KEYS_PATH}/:id`,
    auth: 'agent',
    tag: 'agent data',
    bodyLimit: 0,
    summary:
      "Retire one of this agent's key slots (keys/<id>) after a passphrase change. The vault keeps a copy out of the agent's reach; 409 LAST_KEY for the only slot, 404 KEY_NOT_FOUND.",
    response: { status: 200, schema: { type: 'object', properties: { retired: { type: 'string' } } } },
    handler: retireKey,
  },
  {
    method: 'GET',
    path: '/v1/vaults/:name/servers/:server/retired-keys',
    auth: 'token',
    minRole: 'reader',
    tag: 'points',
    bodyLimit: 0,
    summary: 'Key slots retired by passphrase changes, kept for the soft-delete days',
    response: {
      status: 200,
      schema: {
        type: 'object',
        properties: { server: { type: 'string' }, keys: { type: 'array', items: RETIRED_KEY } },
      },
    },
    handler: listRetired,
  },
  {
    method: 'POST',
    path: '/v1/vaults/:name/servers/:server/retired-keys/:id/restore',
    auth: 'token',
    minRole: 'owner',
    tag: 'points',
    bodyLimit: 0,
    summary: 'Put a retired key slot back, so that its passphrase opens the backups again',
    response: { status: 200, schema: { type: 'object', properties: { restored: { type: 'string' } } } },
    handler: restoreRetired,
  },
];

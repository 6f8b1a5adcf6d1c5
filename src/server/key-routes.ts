import { BadInputError, ConflictError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import { type BlobStore, httpProtocol } from '../storage/index.ts';
import { serverPrefix } from '../vault/layout.ts';
import { agentOf, agentStore } from './data-objects.ts';
import type { RequestContext, Route, RouteResult } from './types.ts';

// A passphrase change retires the key slot of the old passphrase (no data is rewritten).
// Agents cannot delete their repository's objects, and a key slot is no exception in
// effect: the vault moves it out of the agent's reach instead, to
// <vault>/servers/<server>/retired-keys/<id>. So an intruder on the server who changes
// the passphrase cannot lock the owner out of the backups: an administrator can put the
// old slot back. The last slot is never retired.

const { KEYS_PATH } = httpProtocol;
const KEY_ID = /^[0-9a-f]{64}$/;

async function keySlotNames(store: BlobStore): Promise<string[]> {
  const names: string[] = [];
  for await (const object of store.list('keys/')) names.push(object.name);
  return names;
}

async function keepCopy(region: BlobStore, name: string, bytes: Buffer): Promise<void> {
  try {
    await region.put(name, bytes);
  } catch (err) {
    // Retired before (a retry after a lost answer): the copy is there, by its name's hash.
    if (!(isOffsiteError(err) && err.code === 'OBJECT_EXISTS')) throw err;
  }
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
  await keepCopy(region, `${serverPrefix(vault.id, server.id)}retired-keys/${id}`, await store.get(name));
  await store.delete(name);
  return { body: { retired: id } };
}

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
];

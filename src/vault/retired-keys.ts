import { isOffsiteError, NotFoundError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { VaultRow } from './catalog/index.ts';
import { repoStore, serverPrefix } from './layout.ts';

// Key slots retired by a passphrase change. An agent cannot delete its repository's
// objects, so retiring moves the slot out of its reach, under
//   <vault>/servers/<server>/retired-keys/<id>          the slot, as it was
//   <vault>/servers/<server>/retired-keys/<id>.retired  {"retiredAt": ISO time}
// It is kept for the vault's soft-delete days, so that an administrator can put it back
// when an intruder changed the passphrase, then deleted: the old passphrase (perhaps the
// very reason for the change) must stop opening the backups at some point.

const DAY_MS = 86_400_000;
const KEY_ID = /^[0-9a-f]{64}$/;

export interface RetiredKey {
  id: string;
  retiredAt: number;
  /** When retention deletes it. */
  expiresAt: number;
}

function retiredPrefix(vaultId: string, serverId: string): string {
  return `${serverPrefix(vaultId, serverId)}retired-keys/`;
}

async function createOnce(store: BlobStore, name: string, bytes: Buffer): Promise<void> {
  try {
    await store.put(name, bytes);
  } catch (err) {
    // Retired before (a retry after a lost answer): the first copy and time stand.
    if (!(isOffsiteError(err) && err.code === 'OBJECT_EXISTS')) throw err;
  }
}

/** Keeps the slot and when it was retired; the caller then deletes it from the repository. */
export async function keepRetiredKey(
  region: BlobStore,
  vault: VaultRow,
  serverId: string,
  id: string,
  slot: Buffer,
  now: number,
): Promise<void> {
  const name = retiredPrefix(vault.id, serverId) + id;
  await createOnce(region, name, slot);
  await createOnce(
    region,
    `${name}.retired`,
    Buffer.from(JSON.stringify({ retiredAt: new Date(now).toISOString() })),
  );
}

async function retiredAt(region: BlobStore, name: string, now: number): Promise<number> {
  try {
    const time = Date.parse(JSON.parse(String(await region.get(`${name}.retired`))).retiredAt);
    if (Number.isFinite(time)) return time;
  } catch (err) {
    if (!(isOffsiteError(err) && err.code === 'OBJECT_NOT_FOUND') && !(err instanceof SyntaxError)) throw err;
  }
  // Retired before times were kept, or the record is damaged: its days start now.
  await region.delete(`${name}.retired`).catch(() => undefined);
  await createOnce(
    region,
    `${name}.retired`,
    Buffer.from(JSON.stringify({ retiredAt: new Date(now).toISOString() })),
  );
  return now;
}

export async function listRetiredKeys(
  region: BlobStore,
  vault: VaultRow,
  serverId: string,
  now: number,
): Promise<RetiredKey[]> {
  const prefix = retiredPrefix(vault.id, serverId);
  const ids: string[] = [];
  for await (const object of region.list(prefix)) {
    const id = object.name.slice(prefix.length);
    if (KEY_ID.test(id)) ids.push(id);
  }
  const keys: RetiredKey[] = [];
  for (const id of ids.sort()) {
    const at = await retiredAt(region, prefix + id, now);
    keys.push({ id, retiredAt: at, expiresAt: at + vault.softDeleteDays * DAY_MS });
  }
  return keys;
}

export function retiredKeyNotFound(id: string): NotFoundError {
  return new NotFoundError('RETIRED_KEY_NOT_FOUND', `no retired key slot ${id.slice(0, 8)} for this server`, {
    hint: 'list them with offsite vault retired-keys VAULT SERVER; they are deleted after the soft-delete days',
  });
}

async function forget(region: BlobStore, name: string): Promise<void> {
  await region.delete(name);
  await region.delete(`${name}.retired`);
}

/** Puts a retired slot back into the repository, where its passphrase opens it again. */
export async function restoreRetiredKey(region: BlobStore, vault: VaultRow, serverId: string, id: string) {
  const name = retiredPrefix(vault.id, serverId) + id;
  if (!KEY_ID.test(id) || (await region.head(name)) === null) throw retiredKeyNotFound(id);
  await createOnce(repoStore(region, vault.id, serverId), `keys/${id}`, await region.get(name));
  await forget(region, name);
}

/** Deletes the retired slots older than the vault's soft-delete days; returns their ids. */
export async function expireRetiredKeys(
  region: BlobStore,
  vault: VaultRow,
  serverId: string,
  now: number,
): Promise<string[]> {
  const expired: string[] = [];
  for (const key of await listRetiredKeys(region, vault, serverId, now)) {
    if (key.expiresAt > now) continue;
    await forget(region, retiredPrefix(vault.id, serverId) + key.id);
    expired.push(key.id);
  }
  return expired;
}

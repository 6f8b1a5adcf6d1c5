import { IntegrityError, NotFoundError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { JsonObject, PointRow, ServerRow, VaultRow } from './catalog/index.ts';
import {
  pointRecordName,
  pointSoftDeleteName,
  serverRecordPrefix,
  vaultRecordPrefix,
  versionedName,
} from './layout.ts';

// The vault's own records in storage: what `rebuild-catalog` reads back. Storage objects
// are create-only, so a record that changes (vault settings, a server's certificate) is
// written anew under its time and the older versions are deleted afterwards; a crash in
// between leaves two versions and the newest wins.

export interface VaultRecord {
  version: 1;
  vault: Omit<VaultRow, 'policy' | 'secondaryRegion'> & {
    policy: JsonObject | null;
    /** Absent from records written before vaults had secondary regions. */
    secondaryRegion?: string | null;
  };
}

export interface ServerRecord {
  version: 1;
  server: Omit<ServerRow, 'lastSeenAt'>;
}

export interface PointRecord {
  version: 1;
  point: Pick<PointRow, 'id' | 'serverId' | 'vaultId' | 'snapshotName' | 'time' | 'stats' | 'committedAt'>;
  /** Hex ids of the packs the point references. */
  packs: string[];
}

export interface SoftDeleteRecord {
  version: 1;
  softDeletedAt: number;
}

function encode(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`);
}

export async function readJson<T>(store: BlobStore, name: string): Promise<T> {
  const bytes = await store.get(name);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new IntegrityError('VAULT_RECORD_DAMAGED', `the vault record ${name} is not valid JSON`, {
      object: name,
    });
  }
}

async function writeVersioned(store: BlobStore, prefix: string, at: number, value: unknown): Promise<void> {
  const existing: string[] = [];
  for await (const o of store.list(prefix)) existing.push(o.name);
  // Every change must land, even two in one millisecond: take the next free time.
  const times = existing
    .map((n) => Number(n.slice(prefix.length, -'.json'.length)))
    .filter(Number.isSafeInteger);
  const name = versionedName(prefix, Math.max(at, ...times.map((t) => t + 1)));
  await store.put(name, encode(value));
  for (const o of existing) if (o < name) await store.delete(o);
}

/** The newest version under prefix; NotFoundError when there is none. */
export async function readNewest<T>(store: BlobStore, prefix: string): Promise<T> {
  let newest: string | undefined;
  for await (const o of store.list(prefix))
    if (o.name.endsWith('.json') && (!newest || o.name > newest)) newest = o.name;
  if (!newest) throw new NotFoundError('VAULT_RECORD_MISSING', `no record under ${prefix}`);
  return readJson<T>(store, newest);
}

export function saveVaultRecord(store: BlobStore, vault: VaultRow, at: number): Promise<void> {
  const record: VaultRecord = { version: 1, vault };
  return writeVersioned(store, vaultRecordPrefix(vault.id), at, record);
}

export function saveServerRecord(store: BlobStore, server: ServerRow, at: number): Promise<void> {
  const { lastSeenAt: _, ...rest } = server;
  const record: ServerRecord = { version: 1, server: rest };
  return writeVersioned(store, serverRecordPrefix(server.vaultId, server.id), at, record);
}

export async function savePointRecord(
  store: BlobStore,
  point: PointRow,
  packs: readonly string[],
): Promise<void> {
  const { id, serverId, vaultId, snapshotName, time, stats, committedAt } = point;
  const record: PointRecord = {
    version: 1,
    point: { id, serverId, vaultId, snapshotName, time, stats, committedAt },
    packs: [...packs],
  };
  await store.put(pointRecordName(vaultId, serverId, id), encode(record));
}

export async function saveSoftDeleteRecord(store: BlobStore, point: PointRow, at: number): Promise<void> {
  const name = pointSoftDeleteName(point.vaultId, point.serverId, point.id);
  if ((await store.head(name)) !== null) return;
  const record: SoftDeleteRecord = { version: 1, softDeletedAt: at };
  await store.put(name, encode(record));
}

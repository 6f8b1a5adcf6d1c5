import { createHash } from 'node:crypto';
import { IntegrityError, NotFoundError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { Repository } from './repository.ts';

/**
 * Condemned-pack markers (docs/design.md §11): prune's phase 1 records, with a time, the
 * packs no snapshot needs. Backups do not rely on them; a later prune deletes them once
 * the grace period has passed and no backup that could have missed the marker runs.
 */
export interface Marker {
  /** Hex id of the marker object (gc/<id>). */
  id: string;
  time: Date;
  packs: Set<string>;
}

/** The JSON of a marker: sealed in `gc/`, plain in the vault's `gc-vault/`. */
export interface MarkerFile {
  version: 1;
  time: string;
  packs: string[];
}

const PACK_HEX = /^[0-9a-f]{64}$/;

export function decodeMarker(body: Buffer, where: string): MarkerFile {
  const fail = () =>
    new IntegrityError('CORRUPT_MARKER', `${where} is not a valid condemned-pack marker`, { object: where });
  let file: MarkerFile;
  try {
    file = JSON.parse(body.toString('utf8'));
  } catch {
    throw fail();
  }
  const valid = file?.version === 1 && !Number.isNaN(Date.parse(file.time)) && Array.isArray(file.packs);
  if (!valid || !file.packs.every((p) => typeof p === 'string' && PACK_HEX.test(p))) throw fail();
  return file;
}

export interface MarkerScan {
  markers: Marker[];
  /** Markers that could not be read or decoded: `gc/<id>` and why. */
  damaged: { object: string; message: string }[];
}

/**
 * Every readable marker, and the damaged ones. A marker removed by a concurrent prune
 * while listing is skipped; other storage errors are thrown, since a partial answer
 * could look like damage. Backups, check and repair use this: a damaged marker never
 * stops them (prune, which deletes, uses the strict readMarkers).
 */
export async function scanMarkers(repo: Repository): Promise<MarkerScan> {
  const scan: MarkerScan = { markers: [], damaged: [] };
  for (const id of await repo.listFiles('gc')) {
    try {
      const file = decodeMarker(await repo.loadFile('gc', id), `gc/${id}`);
      scan.markers.push({ id, time: new Date(file.time), packs: new Set(file.packs) });
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      if (!(err instanceof IntegrityError)) throw err;
      scan.damaged.push({ object: `gc/${id}`, message: err.message });
    }
  }
  return scan;
}

/** Every marker; a damaged one is an error, because prune must know all condemnations. */
export async function readMarkers(repo: Repository): Promise<Marker[]> {
  const { markers, damaged } = await scanMarkers(repo);
  const [first] = damaged;
  if (first) {
    throw new IntegrityError('CORRUPT_MARKER', first.message, {
      object: first.object,
      hint: `delete ${first.object}: its packs are then simply condemned again by the next prune`,
    });
  }
  return markers;
}

export function condemnedPacks(markers: readonly Marker[]): Set<string> {
  return new Set(markers.flatMap((m) => [...m.packs]));
}

export async function writeMarker(
  repo: Repository,
  time: Date,
  packs: Iterable<string>,
): Promise<Marker | undefined> {
  const list = [...new Set(packs)].sort();
  if (list.length === 0) return undefined;
  const body: MarkerFile = { version: 1, time: time.toISOString(), packs: list };
  const id = await repo.saveFile('gc', Buffer.from(JSON.stringify(body)));
  return { id, time, packs: new Set(list) };
}

/** Replaces a marker by one without `drop` (same time); the old one goes last. */
export async function shrinkMarker(
  repo: Repository,
  marker: Marker,
  drop: ReadonlySet<string>,
): Promise<void> {
  const kept = [...marker.packs].filter((p) => !drop.has(p));
  if (kept.length === marker.packs.size) return;
  await writeMarker(repo, marker.time, kept);
  await repo.store.delete(`gc/${marker.id}`);
}

/**
 * Vault markers (docs/design.md §15): a vault's garbage collection condemns packs of an
 * agent's repository with plain JSON objects `gc-vault/<sha256 of the bytes>` in the
 * marker format. The agent cannot delete or write them; it treats blobs of the packs they
 * list as absent, as it does for its own markers. Pack names are hashes of ciphertext, so
 * a marker reveals nothing; a hostile vault could only cause re-uploads.
 */
export const VAULT_MARKER_DIR = 'gc-vault';

export function encodeVaultMarker(time: Date, packs: Iterable<string>): { name: string; body: Buffer } {
  const file: MarkerFile = { version: 1, time: time.toISOString(), packs: [...new Set(packs)].sort() };
  const body = Buffer.from(JSON.stringify(file));
  return { name: `${VAULT_MARKER_DIR}/${createHash('sha256').update(body).digest('hex')}`, body };
}

/**
 * Every readable vault marker, and the damaged ones (bad JSON, or bytes that do not match
 * the name). As scanMarkers: a marker replaced while listing is skipped, a storage failure
 * is thrown. Takes the repository's store, so the vault (which has no keys) reads them too.
 */
export async function scanVaultMarkers(store: BlobStore): Promise<MarkerScan> {
  const scan: MarkerScan = { markers: [], damaged: [] };
  for await (const object of store.list(`${VAULT_MARKER_DIR}/`)) {
    const id = object.name.slice(VAULT_MARKER_DIR.length + 1);
    try {
      const body = await store.get(object.name);
      if (createHash('sha256').update(body).digest('hex') !== id) {
        throw new IntegrityError('CORRUPT_MARKER', `${object.name} does not match its name: it is damaged`);
      }
      const file = decodeMarker(body, object.name);
      scan.markers.push({ id, time: new Date(file.time), packs: new Set(file.packs) });
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      if (!(err instanceof IntegrityError)) throw err;
      scan.damaged.push({ object: object.name, message: err.message });
    }
  }
  return scan;
}

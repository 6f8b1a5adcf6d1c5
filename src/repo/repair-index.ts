import { createHash } from 'node:crypto';
import { IntegrityError, NotFoundError } from '../errors/index.ts';
import { Semaphore, systemClock } from '../util/index.ts';
import { readPackHeader } from './adopt.ts';
import { decompress } from './compress.ts';
import { hex, openBlob, packKey } from './crypto/seal.ts';
import type { IndexedPack } from './index-file.ts';
import { expectedPackSize, parsePack } from './pack.ts';
import { acquirePruneLock } from './prune/lock.ts';
import type { Repository } from './repository.ts';

/**
 * `repair index`: rebuilds the index from the packs alone (docs/design.md §5). Every pack
 * in data/ whose header authenticates is indexed with exactly the entries of its header;
 * packs whose header cannot be read are left out and reported. The new index files
 * supersede every index file that existed, which are deleted only after the new ones are
 * durable, so a crash at any point leaves a loadable index.
 */

export interface RepairIndexOptions {
  /** Read every pack whole: check its SHA-256 and authenticate every blob, not only the header. */
  readAllPacks?: boolean;
  onPack?: (done: number, total: number) => void;
}

export interface RepairIndexResult {
  /** Packs in data/. */
  packsFound: number;
  /** Packs in the new index. */
  packsIndexed: number;
  blobs: number;
  /** Packs left out: their header (or their bytes) could not be read. */
  unreadable: { pack: string; reason: string }[];
  /** Objects in data/ whose name is not a pack's (data/xx/<64 hex digits>); left alone. */
  ignored: string[];
  /**
   * Packs indexed although damaged (only found with readAllPacks): their header reads,
   * so their good blobs stay usable; the damaged blobs are listed.
   */
  damaged: { pack: string; reason: string; blobs: string[] }[];
  /** New index files (hex ids) and the old ones they replaced and that were deleted. */
  written: string[];
  removed: string[];
}

/** Packs per new index file, so one file stays a few MiB even for a large repository. */
const PACKS_PER_FILE = 1024;
const PACK_NAME = /^data\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

/** Storage failures that mean "this pack is not readable", not "the repair cannot go on". */
function isDamage(err: unknown): boolean {
  return err instanceof IntegrityError || err instanceof NotFoundError;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type PackOutcome = { pack: IndexedPack; damaged?: { reason: string; blobs: string[] } };

/** Blobs of a whole pack that fail authentication, decompression or their id. */
async function damagedBlobs(
  repo: Repository,
  bytes: Buffer,
  pack: IndexedPack,
  name: string,
): Promise<string[]> {
  const key = packKey(repo.keys.encKey, pack.salt);
  const bad: string[] = [];
  for (const entry of pack.entries) {
    try {
      const stored = openBlob(key, entry, bytes.subarray(entry.offset, entry.offset + entry.length), name);
      const plain = entry.compressed ? await decompress(stored, entry.rawLength, name) : stored;
      if (plain.length !== entry.rawLength || !repo.blobId(plain).equals(entry.id)) bad.push(hex(entry.id));
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      bad.push(hex(entry.id));
    }
  }
  return bad;
}

async function readWholePack(repo: Repository, name: string, id: Buffer): Promise<PackOutcome> {
  const bytes = await repo.store.get(name);
  const { salt, entries } = parsePack(bytes, repo.keys.encKey, name);
  const pack = { id, salt, entries };
  const hashOk = createHash('sha256').update(bytes).digest().equals(id);
  const sizeOk = bytes.length === expectedPackSize(entries);
  const blobs = await damagedBlobs(repo, bytes, pack, name);
  if (hashOk && sizeOk && blobs.length === 0) return { pack };
  const reason = !hashOk
    ? 'contents do not match the name (SHA-256 mismatch)'
    : !sizeOk
      ? 'size disagrees with its header'
      : 'blobs fail authentication';
  return { pack, damaged: { reason, blobs } };
}

async function readOne(repo: Repository, name: string, size: number, whole: boolean): Promise<PackOutcome> {
  const id = Buffer.from(PACK_NAME.exec(name)![2]!, 'hex');
  if (whole) return readWholePack(repo, name, id);
  const pack = await readPackHeader(repo, name, size);
  if (size !== expectedPackSize(pack.entries))
    return { pack, damaged: { reason: 'size disagrees with its header', blobs: [] } };
  return { pack };
}

/** Reads every pack's header (or whole pack); the outcome per pack, in id order. */
async function scanPacks(
  repo: Repository,
  options: RepairIndexOptions,
  result: RepairIndexResult,
): Promise<IndexedPack[]> {
  const listed: [string, number][] = [];
  for await (const object of repo.store.list('data/')) listed.push([object.name, object.size]);
  listed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const limit = new Semaphore(options.readAllPacks ? 2 : 8);
  let done = 0;
  const outcomes = await Promise.all(
    listed.map(([name, size]) =>
      limit.run(async (): Promise<PackOutcome | undefined> => {
        try {
          const match = PACK_NAME.exec(name);
          if (!match || match[1] !== match[2]!.slice(0, 2)) {
            result.ignored.push(name);
            return undefined;
          }
          return await readOne(repo, name, size, options.readAllPacks === true);
        } catch (err) {
          if (!isDamage(err)) throw err;
          result.unreadable.push({ pack: name, reason: describe(err) });
          return undefined;
        } finally {
          options.onPack?.(++done, listed.length);
        }
      }),
    ),
  );
  const packs: IndexedPack[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome) continue;
    packs.push(outcome.pack);
    if (outcome.damaged) result.damaged.push({ pack: listed[i]![0], ...outcome.damaged });
  }
  result.unreadable.sort((a, b) => (a.pack < b.pack ? -1 : 1));
  result.ignored.sort();
  result.packsFound = listed.length - result.ignored.length;
  return packs;
}

/**
 * Holds the prune lock while it rewrites index files: a prune deleting packs at the same
 * time could otherwise leave the new index naming a pack that is gone.
 */
export async function repairIndex(
  repo: Repository,
  options: RepairIndexOptions = {},
): Promise<RepairIndexResult> {
  const release = await acquirePruneLock(repo, systemClock);
  try {
    return await rebuildIndex(repo, options);
  } finally {
    await release();
  }
}

async function rebuildIndex(repo: Repository, options: RepairIndexOptions): Promise<RepairIndexResult> {
  const result: RepairIndexResult = {
    packsFound: 0,
    packsIndexed: 0,
    blobs: 0,
    unreadable: [],
    ignored: [],
    damaged: [],
    written: [],
    removed: [],
  };
  // Index files first, packs second: every pack an old index file lists was stored
  // before that file was written, so it is in the listing below unless it is gone.
  const old = await repo.listFiles('index');
  const packs = await scanPacks(repo, options, result);
  result.packsIndexed = packs.length;
  result.blobs = packs.reduce((n, p) => n + p.entries.length, 0);
  const supersedes = old.map((id) => Buffer.from(id, 'hex'));
  // Even with no pack left, one (empty) file supersedes the old ones before they go.
  if (packs.length > 0 || old.length > 0) {
    for (let i = 0; i === 0 || i < packs.length; i += PACKS_PER_FILE) {
      result.written.push(await repo.saveIndex(packs.slice(i, i + PACKS_PER_FILE), supersedes));
    }
  }
  for (const id of old) {
    await repo.store.delete(`index/${id}`);
    repo.indexFiles.delete(id);
    result.removed.push(id);
  }
  return result;
}

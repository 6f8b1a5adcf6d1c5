import { IntegrityError } from '../errors/index.ts';

/** A recovery point: what was backed up, when, from where, and what it cost. */
export interface SnapshotStats {
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dirsNew: number;
  dirsChanged: number;
  dirsUnmodified: number;
  /** Logical bytes of all files in the snapshot. */
  bytesProcessed: number;
  /** Bytes actually read from disk (unchanged files are not read). */
  bytesRead: number;
  blobsAdded: number;
  /** Plaintext bytes of new blobs, before compression. */
  bytesAddedRaw: number;
  /** Bytes of new blobs as stored: after compression and encryption. */
  bytesAddedStored: number;
  treeBytesAddedStored: number;
  errors: number;
  durationMs: number;
}

export interface Snapshot {
  version: 1;
  time: string;
  tree: string;
  paths: string[];
  hostname: string;
  username: string;
  tags: string[];
  parent?: string;
  program: string;
  stats: SnapshotStats;
}

export interface SnapshotRef {
  /** Full id: the SHA-256 of the stored object. */
  id: string;
  snapshot: Snapshot;
}

const ID_HEX = /^[0-9a-f]{64}$/;

export function decodeSnapshot(data: Buffer, where: string): Snapshot {
  const fail = (why: string) => new IntegrityError('CORRUPT_SNAPSHOT', `${where}: ${why}`, { object: where });
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw fail('not valid JSON');
  }
  if (parsed?.version !== 1) throw fail('unknown snapshot version');
  if (typeof parsed.tree !== 'string' || !ID_HEX.test(parsed.tree)) throw fail('invalid root tree id');
  if (typeof parsed.time !== 'string' || Number.isNaN(Date.parse(parsed.time))) throw fail('invalid time');
  if (!Array.isArray(parsed.paths) || !parsed.paths.every((p) => typeof p === 'string'))
    throw fail('invalid paths');
  if (!Array.isArray(parsed.tags)) parsed.tags = [];
  return parsed;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

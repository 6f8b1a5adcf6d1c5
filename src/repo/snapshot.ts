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

const STAT_FIELDS: readonly (keyof SnapshotStats)[] = [
  'filesNew',
  'filesChanged',
  'filesUnmodified',
  'dirsNew',
  'dirsChanged',
  'dirsUnmodified',
  'bytesProcessed',
  'bytesRead',
  'blobsAdded',
  'bytesAddedRaw',
  'bytesAddedStored',
  'treeBytesAddedStored',
  'errors',
  'durationMs',
];

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Every field a reader relies on is checked, so a damaged or forged snapshot fails here
 * with CORRUPT_SNAPSHOT instead of deep inside a listing or a restore. Missing optional
 * parts (tags, stats of very old snapshots) read as empty; unknown fields are kept.
 */
export function decodeSnapshot(data: Buffer, where: string): Snapshot {
  const fail = (why: string) => new IntegrityError('CORRUPT_SNAPSHOT', `${where}: ${why}`, { object: where });
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw fail('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.version !== 1)
    throw fail('unknown snapshot version');
  if (typeof parsed.tree !== 'string' || !ID_HEX.test(parsed.tree)) throw fail('invalid root tree id');
  if (typeof parsed.time !== 'string' || Number.isNaN(Date.parse(parsed.time))) throw fail('invalid time');
  if (!isStringList(parsed.paths)) throw fail('invalid paths');
  for (const field of ['hostname', 'username', 'program'] as const) {
    if (parsed[field] === undefined) parsed[field] = '';
    if (typeof parsed[field] !== 'string') throw fail(`invalid ${field}`);
  }
  if (parsed.tags === undefined) parsed.tags = [];
  if (!isStringList(parsed.tags)) throw fail('invalid tags');
  if (parsed.parent !== undefined && (typeof parsed.parent !== 'string' || !ID_HEX.test(parsed.parent))) {
    throw fail('invalid parent snapshot id');
  }
  parsed.stats = decodeStats(parsed.stats, fail);
  return parsed;
}

function decodeStats(value: unknown, fail: (why: string) => Error): SnapshotStats {
  if (value === undefined) value = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('invalid stats');
  const stats = value as Record<string, unknown>;
  for (const field of STAT_FIELDS) {
    if (stats[field] === undefined) stats[field] = 0;
    if (!isCount(stats[field])) throw fail(`invalid stats.${field}`);
  }
  return stats as unknown as SnapshotStats;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

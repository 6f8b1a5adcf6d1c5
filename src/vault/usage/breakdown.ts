import { formatBytes } from '../../util/index.ts';
import type { JsonObject } from '../catalog/index.ts';

/**
 * Why stored bytes differ from protected bytes. dataBytes + metadataBytes is the stored
 * total; latest + olderPoints + softDeleted + garbage + unreferenced is dataBytes.
 */
export interface Breakdown {
  /** Pack objects. */
  dataBytes: number;
  /** Everything else: indexes, snapshots, keys, config, markers, sessions, vault records. */
  metadataBytes: number;
  /** Packs the newest point of each backup set holds. */
  latestBytes: number;
  /** Packs only older active points hold (churn × retention). */
  olderPointsBytes: number;
  /** Packs only soft-deleted points hold. */
  softDeletedBytes: number;
  /** Condemned (or deleted but not yet removed) packs, awaiting deletion. */
  garbageBytes: number;
  /** Packs no point references yet: a backup that has not committed, or one that failed. */
  unreferencedBytes: number;
  compression: { rawBytes: number; storedBytes: number; savedBytes: number };
  dedup: { logicalBytes: number; addedBytes: number; savedBytes: number };
}

export function emptyBreakdown(): Breakdown {
  return {
    dataBytes: 0,
    metadataBytes: 0,
    latestBytes: 0,
    olderPointsBytes: 0,
    softDeletedBytes: 0,
    garbageBytes: 0,
    unreferencedBytes: 0,
    compression: { rawBytes: 0, storedBytes: 0, savedBytes: 0 },
    dedup: { logicalBytes: 0, addedBytes: 0, savedBytes: 0 },
  };
}

export function addBreakdowns(parts: readonly Breakdown[]): Breakdown {
  const total = emptyBreakdown();
  for (const b of parts) {
    total.dataBytes += b.dataBytes;
    total.metadataBytes += b.metadataBytes;
    total.latestBytes += b.latestBytes;
    total.olderPointsBytes += b.olderPointsBytes;
    total.softDeletedBytes += b.softDeletedBytes;
    total.garbageBytes += b.garbageBytes;
    total.unreferencedBytes += b.unreferencedBytes;
    for (const k of ['rawBytes', 'storedBytes', 'savedBytes'] as const)
      total.compression[k] += b.compression[k];
    for (const k of ['logicalBytes', 'addedBytes', 'savedBytes'] as const) total.dedup[k] += b.dedup[k];
  }
  return total;
}

export function breakdownJson(b: Breakdown): JsonObject {
  return { ...b, compression: { ...b.compression }, dedup: { ...b.dedup } };
}

export interface Explanation {
  /** Which figure: protected, stored, data, metadata, compression, dedup, ... */
  key: string;
  bytes: number;
  text: string;
}

export interface ExplainInput {
  protectedBytes: number;
  storedBytes: number;
  breakdown: Breakdown;
  points: number;
  softDeleteDays: number;
  graceHours: number;
  unreferencedDays: number;
}

/** One sentence a person understands for each figure, in the order the CLI prints them. */
export function explain(u: ExplainInput): Explanation[] {
  const b = u.breakdown;
  const f = formatBytes;
  const c = b.compression;
  const lines: Explanation[] = [
    {
      key: 'protected',
      bytes: u.protectedBytes,
      text: `You protect ${f(u.protectedBytes)}: the size of the files in the newest recovery point of each backup set.`,
    },
    {
      key: 'stored',
      bytes: u.storedBytes,
      text: `Storage holds ${f(u.storedBytes)}: every object under the vault's prefix, counted byte for byte.`,
    },
    {
      key: 'dedup',
      bytes: b.dedup.savedBytes,
      text: `Deduplication saved ${f(b.dedup.savedBytes)}: your ${u.points} recovery points hold ${f(b.dedup.logicalBytes)} of files in total, but only the ${f(b.dedup.addedBytes)} that were new each time were stored.`,
    },
    c.savedBytes >= 0
      ? {
          key: 'compression',
          bytes: c.savedBytes,
          text: `Compression saved ${f(c.savedBytes)}: the new data was ${f(c.rawBytes)} before compression and ${f(c.storedBytes)} once compressed and encrypted.`,
        }
      : {
          key: 'compression',
          bytes: c.savedBytes,
          text: `Compression did not help: the new data does not compress, and encryption adds a few bytes to each piece (${f(-c.savedBytes)} in all).`,
        },
    {
      key: 'latest',
      bytes: b.latestBytes,
      text: `${f(b.latestBytes)} of data is what the newest recovery points need.`,
    },
    {
      key: 'olderPoints',
      bytes: b.olderPointsBytes,
      text: `${f(b.olderPointsBytes)} is held only by older recovery points: data that has changed or gone since, kept because your retention policy keeps those points.`,
    },
    {
      key: 'softDeleted',
      bytes: b.softDeletedBytes,
      text: `${f(b.softDeletedBytes)} is held only by soft-deleted recovery points: it is freed when they are deleted for good, ${u.softDeleteDays} days after their soft deletion, unless you undelete them.`,
    },
    {
      key: 'garbage',
      bytes: b.garbageBytes,
      text: `${f(b.garbageBytes)} is garbage awaiting deletion: data no recovery point needs any more, deleted ${u.graceHours} hours after it was found unused.`,
    },
    {
      key: 'unreferenced',
      bytes: b.unreferencedBytes,
      text: `${f(b.unreferencedBytes)} was uploaded by backups that have not committed a recovery point (still running, or failed): it is kept ${u.unreferencedDays} days for them, then collected.`,
    },
    {
      key: 'metadata',
      bytes: b.metadataBytes,
      text: `${f(b.metadataBytes)} is metadata: indexes, snapshots, keys, configuration, garbage-collection markers and the vault's own records.`,
    },
  ];
  return lines;
}

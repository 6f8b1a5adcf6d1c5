import { BadInputError, NotFoundError } from '../../errors/index.ts';
import type { Repository } from '../repository.ts';
import type { SnapshotRef } from '../snapshot.ts';
import { listSnapshots, type SnapshotFilter } from '../snapshots.ts';

// A point in time to restore: the newest snapshot taken at or before a moment given in
// the machine's local time ("2026-11-01 14:00"), as a person names it.

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

function badTime(text: string): BadInputError {
  return new BadInputError('BAD_TIME', `"${text}" is not a date and time`, {
    hint: 'write local time as "YYYY-MM-DD HH:MM" (seconds optional), or a date alone for the end of that day',
  });
}

/**
 * The moment `text` names: "YYYY-MM-DD HH:MM[:SS]" in the local time zone (a time the
 * clock skipped at a daylight-saving change moves forward by the gap, as the clock did;
 * one it showed twice is its first occurrence); a date alone means the end of that day;
 * with Z or ±HH:MM it is absolute.
 */
export function parsePointInTime(text: string): Date {
  const trimmed = text.trim();
  if (WITH_ZONE.test(trimmed)) {
    const at = new Date(trimmed.replace(' ', 'T'));
    if (Number.isNaN(at.getTime())) throw badTime(text);
    return at;
  }
  const match = LOCAL.exec(trimmed);
  if (!match) throw badTime(text);
  const [year, month, day, hour, minute, second] = match
    .slice(1)
    .map((v) => (v === undefined ? -1 : Number(v)));
  const dateOnly = hour === -1;
  const at = dateOnly
    ? new Date(year!, month! - 1, day!, 23, 59, 59, 999)
    : new Date(year!, month! - 1, day!, hour!, minute!, second === -1 ? 0 : second!);
  // new Date rolls 2026-02-30 over into March: a date that does not exist is refused.
  if (at.getFullYear() !== year || at.getMonth() !== month! - 1 || at.getDate() !== day) throw badTime(text);
  if (!dateOnly && (hour! > 23 || minute! > 59 || second! > 59)) throw badTime(text);
  return at;
}

/** The newest snapshot (matching the filter) taken at or before `at`. */
export async function snapshotAt(
  repo: Repository,
  at: Date,
  filter: SnapshotFilter = {},
): Promise<SnapshotRef> {
  const all = await listSnapshots(repo, filter);
  const before = all.filter((ref) => Date.parse(ref.snapshot.time) <= at.getTime());
  const chosen = before.at(-1);
  if (chosen) return chosen;
  const oldest = all[0];
  throw new NotFoundError(
    'SNAPSHOT_NOT_FOUND',
    `no snapshot (matching the filter) was taken at or before ${at.toString()}`,
    {
      hint: oldest
        ? `the oldest is from ${new Date(oldest.snapshot.time).toString()}`
        : 'the repository has no snapshot matching the filter',
    },
  );
}

import { randomUUID } from 'node:crypto';
import { isOffsiteError, TransientError } from '../../errors/index.ts';
import { type Catalog, type HeldLease, withLease } from '../catalog/index.ts';

// Retention and undelete of one server's recovery points take turns through a lease in
// the catalog, whichever vault server instances they run on: retention deleting a point
// for good while a person brings it back would leave an active point without its
// snapshot, or a soft-delete record beside an undeleted point.

export const POINTS_LOCK_MS = 60_000;
/** An undelete waits this long for a retention run on the same server, then is 503. */
export const UNDELETE_WAIT_MS = 15_000;
/** Retention waits out a whole lease: a holder that died has lost it by then. */
export const RETENTION_WAIT_MS = POINTS_LOCK_MS + 5_000;

export function pointsLockName(serverId: string): string {
  return `points:${serverId}`;
}

/** A clock that reads `now` when made and moves on in real time from there. */
function clockFrom(now: number): () => number {
  const start = performance.now();
  return () => now + Math.round(performance.now() - start);
}

/** Runs fn holding the server's points lock; the lock is confirmed before irreversible steps. */
export async function withPointsLock<T>(
  catalog: Catalog,
  serverId: string,
  work: 'retention' | 'undelete',
  now: number,
  fn: (lock: HeldLease) => Promise<T>,
  waitMs = work === 'undelete' ? UNDELETE_WAIT_MS : RETENTION_WAIT_MS,
): Promise<T> {
  const claim = {
    catalog,
    name: pointsLockName(serverId),
    holder: `${work}/${randomUUID()}`,
    now: clockFrom(now),
    ttlMs: POINTS_LOCK_MS,
  };
  try {
    return await withLease(claim, waitMs, fn);
  } catch (err) {
    if (!(isOffsiteError(err) && err.code === 'LEASE_BUSY')) throw err;
    throw new TransientError('POINTS_BUSY', `the recovery points of server ${serverId} are being changed`, {
      cause: err,
      hint: 'retention or an undelete is working on them; try again in a minute',
    });
  }
}

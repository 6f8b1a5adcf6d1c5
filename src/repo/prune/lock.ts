import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConflictError, errnoCode, isOffsiteError } from '../../errors/index.ts';
import type { Clock } from '../../util/index.ts';
import { openFile, sealFile } from '../crypto/seal.ts';
import type { Repository } from '../repository.ts';

/**
 * One prune at a time (design.md §11): two prunes rewriting index files at once could
 * drop each other's packs. Backups never look at this lock. A lock older than 6 hours
 * belongs to a prune that died and is broken, and so is one taken on this machine by a
 * process that no longer exists.
 */
const NAME = 'locks/prune';
export const PRUNE_LOCK_STALE_MS = 6 * 60 * 60 * 1000;

interface LockInfo {
  hostname: string;
  pid: number;
  time: string;
  nonce: string;
}

async function readLock(repo: Repository): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(openFile(repo.keys.encKey, 'lock', await repo.store.get(NAME), NAME).toString('utf8'));
  } catch (err) {
    if (isOffsiteError(err) && err.kind === 'not-found') return undefined;
    if (isOffsiteError(err) && err.kind === 'integrity')
      return { hostname: '?', pid: 0, time: new Date(0).toISOString(), nonce: '' };
    throw err;
  }
}

/** A lock taken on this machine by a process that no longer exists was left by a crash. */
function deadHereAndNow(holder: LockInfo): boolean {
  if (holder.hostname !== hostname() || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return errnoCode(err) === 'ESRCH';
  }
}

async function tryCreate(repo: Repository, info: LockInfo): Promise<boolean> {
  try {
    await repo.store.put(NAME, sealFile(repo.keys.encKey, 'lock', Buffer.from(JSON.stringify(info))));
    return true;
  } catch (err) {
    if (err instanceof ConflictError || errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

export async function acquirePruneLock(repo: Repository, clock: Clock): Promise<() => Promise<void>> {
  const info: LockInfo = {
    hostname: hostname(),
    pid: process.pid,
    time: new Date(clock.now()).toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  if (!(await tryCreate(repo, info))) {
    const holder = await readLock(repo);
    const stale =
      !holder || clock.now() - Date.parse(holder.time) > PRUNE_LOCK_STALE_MS || deadHereAndNow(holder);
    if (!stale) {
      throw new ConflictError(
        'PRUNE_RUNNING',
        `another prune is running (${holder.hostname}, pid ${holder.pid}, since ${holder.time})`,
        {
          hint: 'wait for it to finish; a lock older than 6 hours is broken automatically',
        },
      );
    }
    await repo.store.delete(NAME);
    if (!(await tryCreate(repo, info)))
      throw new ConflictError('PRUNE_RUNNING', 'another prune started at the same moment');
  }
  return async () => {
    const current = await readLock(repo);
    if (current?.nonce === info.nonce) await repo.store.delete(NAME);
  };
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { NotFoundError } from '../errors/index.ts';
import { type Clock, systemClock } from '../util/index.ts';
import type { Repository } from './repository.ts';

/**
 * Sessions (docs/design.md §11): a backup announces itself before it reads anything, so
 * that prune never deletes a pack it might rely on. Refreshed every 10 minutes; one not
 * refreshed for an hour belongs to a dead process and is ignored.
 */
export const SESSION_REFRESH_MS = 10 * 60 * 1000;
export const SESSION_STALE_MS = 60 * 60 * 1000;

export interface SessionInfo {
  version: 1;
  id: string;
  kind: string;
  hostname: string;
  pid: number;
  started: string;
  refreshed: string;
}

export interface Session {
  readonly info: SessionInfo;
  end(): Promise<void>;
}

async function write(repo: Repository, info: SessionInfo): Promise<string> {
  return repo.saveFile('session', Buffer.from(JSON.stringify(info)));
}

export async function startSession(
  repo: Repository,
  kind: string,
  clock: Clock = systemClock,
): Promise<Session> {
  const now = new Date(clock.now()).toISOString();
  const info: SessionInfo = {
    version: 1,
    id: randomBytes(8).toString('hex'),
    kind,
    hostname: hostname(),
    pid: process.pid,
    started: now,
    refreshed: now,
  };
  let object = await write(repo, info);
  let refreshing = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = refreshing
      .then(async () => {
        const previous = object;
        info.refreshed = new Date(clock.now()).toISOString();
        object = await write(repo, info);
        await repo.store.delete(`sessions/${previous}`);
      })
      .catch(() => {
        // A failed refresh only risks the session looking stale after an hour; the backup
        // itself reports storage failures through its own writes.
      });
  }, SESSION_REFRESH_MS);
  timer.unref();
  return {
    info,
    async end() {
      clearInterval(timer);
      await refreshing;
      await repo.store.delete(`sessions/${object}`);
    },
  };
}

/** Sessions whose process may still be running; a vanished or damaged one is skipped. */
export async function liveSessions(repo: Repository, now: Date): Promise<SessionInfo[]> {
  const live: SessionInfo[] = [];
  for (const id of await repo.listFiles('session')) {
    try {
      const info = JSON.parse((await repo.loadFile('session', id)).toString('utf8')) as SessionInfo;
      if (now.getTime() - Date.parse(info.refreshed) < SESSION_STALE_MS) live.push(info);
    } catch (err) {
      if (!(err instanceof NotFoundError) && !(err instanceof SyntaxError)) throw err;
    }
  }
  return live;
}

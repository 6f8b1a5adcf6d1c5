import { open, readFile, rm, stat } from 'node:fs/promises';
import { errnoCode } from '../../errors/index.ts';

// A lock file owned by one process: created exclusively, holding its pid and the boot it
// started in. A lock whose process is gone (dead pid, or a pid from an earlier boot that
// a reboot may have handed to someone else) is stale and taken over; so is one older than
// `staleAfterMs` when given (for short critical sections whose owner may have hung).

export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

interface LockBody {
  pid: number;
  boot: string | null;
  at: string;
}

async function bootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** The owner's pid when the lock is held by a live process, else undefined. */
export async function lockOwner(path: string, staleAfterMs?: number): Promise<number | undefined> {
  let body: LockBody;
  try {
    body = JSON.parse(await readFile(path, 'utf8')) as LockBody;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    // Torn or foreign content: its writer died between create and write, or it is not ours.
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs;
    return age < 10_000 ? -1 : undefined;
  }
  if (typeof body.pid !== 'number') return undefined;
  const boot = await bootId();
  if (boot !== null && body.boot !== null && boot !== body.boot) return undefined;
  if (staleAfterMs !== undefined && Date.now() - Date.parse(body.at) > staleAfterMs) return undefined;
  if (body.pid === process.pid) return body.pid;
  return alive(body.pid) ? body.pid : undefined;
}

async function create(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    const body: LockBody = { pid: process.pid, boot: await bootId(), at: new Date().toISOString() };
    await handle.writeFile(`${JSON.stringify(body)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

/** The lock, or the pid of its live owner (-1 when unknown). */
export async function tryLock(
  path: string,
  options: { staleAfterMs?: number } = {},
): Promise<HeldLock | { heldBy: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await create(path)) {
      return { path, release: () => rm(path, { force: true }) };
    }
    const owner = await lockOwner(path, options.staleAfterMs);
    if (owner !== undefined) return { heldBy: owner };
    // Stale: remove it and try again (another process may win the race, which is fine).
    await rm(path, { force: true });
  }
  return { heldBy: -1 };
}

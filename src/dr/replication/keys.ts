import { randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConflictError, errnoCode } from '../../errors/index.ts';

// The per-workload repository key: made by the first primary, held by the two site agents
// only (files 0600), handed to the replica over the mutually authenticated channel and
// never to the server. It is the passphrase of the replica repository.

/** 192 random bits, base64url: 32 characters, above the engine's 16-character minimum. */
export function newWorkloadKey(): string {
  return randomBytes(24).toString('base64url');
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes `key` at `path` unless a key is there; returns the key the file holds afterwards. */
async function createOnce(path: string, key: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${key}\n`, { mode: 0o600, flush: true });
  try {
    await link(temp, path);
    return key;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    return (await readIfPresent(path)) ?? key;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** The sender's key for a workload, made on first use. */
export async function loadOrCreateKey(path: string): Promise<string> {
  return (await readIfPresent(path)) ?? (await createOnce(path, newWorkloadKey()));
}

export async function readKey(path: string): Promise<string | undefined> {
  return readIfPresent(path);
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The replica keeps the first key offered for a workload. The same key again is fine (a
 * retry, a restarted sender); another key is refused, so a sender cannot swap the key of
 * an existing replica repository. Returns true when the key was stored just now.
 */
export async function acceptKey(path: string, key: string): Promise<boolean> {
  const existing = await readIfPresent(path);
  const kept = existing ?? (await createOnce(path, key));
  if (!sameKey(kept, key)) {
    throw new ConflictError('KEY_MISMATCH', 'the replica already holds another key for this workload', {
      hint: "give the sender the workload's existing key, or remove the replica's folder for the workload to start over",
    });
  }
  return existing === undefined;
}

export function keyPathIn(workloadDir: string): string {
  return join(workloadDir, 'key');
}

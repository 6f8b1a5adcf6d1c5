import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.ts';

// A local cache of a remote repository's metadata: index files, snapshots and tree blobs,
// kept as the sealed bytes the store returned. Nothing here is trusted: every entry is
// checked exactly as if it came from the store (hash of the name, AEAD), and an entry that
// fails is dropped and fetched again, so a damaged or deleted cache only costs downloads.
// The cache sizes itself: past its limit, the least recently used entries go first.

export type CacheKind = 'index' | 'snapshot' | 'tree';

const HEX64 = /^[0-9a-f]{64}$/;
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

export class DiskCache {
  readonly dir: string;
  readonly maxBytes: number;

  constructor(dir: string, maxBytes = DEFAULT_CACHE_BYTES) {
    this.dir = dir;
    this.maxBytes = maxBytes;
  }

  #path(kind: CacheKind, id: string): string | undefined {
    return HEX64.test(id) ? join(this.dir, kind, id.slice(0, 2), id) : undefined;
  }

  /** The cached bytes, or undefined (a missing or unreadable entry is a miss, never an error). */
  async get(kind: CacheKind, id: string): Promise<Buffer | undefined> {
    const path = this.#path(kind, id);
    if (!path) return undefined;
    try {
      const bytes = await readFile(path);
      const now = new Date();
      await utimes(path, now, now).catch(() => {});
      return bytes;
    } catch {
      return undefined;
    }
  }

  /** Written to a temporary name and renamed, so a reader never sees half an entry. */
  async put(kind: CacheKind, id: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(kind, id);
    if (!path) return;
    const dir = join(this.dir, kind, id.slice(0, 2));
    const temp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch {
      // A cache that cannot be written (full disk, read-only) only means more downloads.
      await rm(temp, { force: true });
    }
  }

  async drop(kind: CacheKind, id: string): Promise<void> {
    const path = this.#path(kind, id);
    if (path) await rm(path, { force: true });
  }

  /**
   * trim(), at most once per `everyMs`: walking the whole cache at every command would
   * put a directory scan on every start-up. The last trim's time is a marker file's mtime.
   */
  async trimIfDue(everyMs = 3_600_000, now = Date.now()): Promise<void> {
    const marker = join(this.dir, '.trimmed');
    const last = await stat(marker).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (last !== undefined && now - last < everyMs) return;
    await this.trim();
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch(() => {});
    await open(marker, 'w', 0o600)
      .then((h) => h.close())
      .catch(() => {});
  }

  /** Deletes the least recently used entries until the cache holds at most 80 % of its limit. */
  async trim(): Promise<{ entries: number; bytes: number; removed: number }> {
    const entries: { path: string; size: number; used: number }[] = [];
    for (const kind of ['index', 'snapshot', 'tree'] as const) {
      for (const sub of await list(join(this.dir, kind))) {
        for (const name of await list(join(this.dir, kind, sub))) {
          const path = join(this.dir, kind, sub, name);
          const s = await stat(path).catch(() => undefined);
          if (s) entries.push({ path, size: s.size, used: s.mtimeMs });
        }
      }
    }
    let bytes = entries.reduce((n, e) => n + e.size, 0);
    let removed = 0;
    if (bytes > this.maxBytes) {
      entries.sort((a, b) => a.used - b.used);
      for (const e of entries) {
        if (bytes <= this.maxBytes * 0.8) break;
        await rm(e.path, { force: true });
        bytes -= e.size;
        removed++;
      }
    }
    for (const name of await list(this.dir)) {
      if (name.startsWith('.tmp-')) await rm(join(this.dir, name), { force: true });
    }
    return { entries: entries.length - removed, bytes, removed };
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

// Checks that a restored tree matches its source: same entries, types, sizes and symlink
// targets everywhere, and the same SHA-256 for a deterministic sample of files.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface Entry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  target?: string;
}

export interface Fingerprint {
  root: string;
  entries: Map<string, Entry>;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export interface VerifyResult {
  ok: boolean;
  restoredRoot: string | null;
  expectedFiles: number;
  files: number;
  expectedBytes: number;
  bytes: number;
  hashedFiles: number;
  hashedBytes: number;
  problems: string[];
}

export async function fingerprint(root: string): Promise<Fingerprint> {
  const fp: Fingerprint = { root, entries: new Map(), files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path);
      if (st.isDirectory()) {
        fp.entries.set(r, { type: 'dir', size: 0 });
        fp.dirs++;
        await walk(path, r);
      } else if (st.isSymbolicLink()) {
        fp.entries.set(r, { type: 'symlink', size: 0, target: await readlink(path) });
        fp.symlinks++;
      } else if (st.isFile()) {
        fp.entries.set(r, { type: 'file', size: st.size });
        fp.files++;
        fp.bytes += st.size;
      } else fp.entries.set(r, { type: 'other', size: 0 });
    }
  };
  await walk(root, '');
  return fp;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Finds where a tool put the restored copy of `source` inside `target`: tools restore the
 * absolute path below the target (restic, borg) or the directory's contents directly. The
 * answer is the shallowest directory that holds every top-level name of the source.
 */
export async function locateRestored(target: string, source: Fingerprint): Promise<string | null> {
  const topNames = [...source.entries.keys()].filter((k) => !k.includes('/'));
  let level = [target];
  for (let depth = 0; depth < 12 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const set = new Set(names);
      if (topNames.every((n) => set.has(n))) return dir;
      for (const n of names) if ((await lstat(join(dir, n))).isDirectory()) next.push(join(dir, n));
    }
    level = next.slice(0, 64);
  }
  return null;
}

/** Picks about `n` files spread over the sorted list, plus the largest few and `extra`. */
function sample(source: Fingerprint, n: number, extra: readonly string[]): string[] {
  const files = [...source.entries].filter(([, e]) => e.type === 'file');
  const step = Math.max(1, Math.floor(files.length / n));
  const picked = new Set<string>();
  for (let i = 0; i < files.length; i += step) picked.add(files[i]![0]);
  for (const [path] of files.sort((a, b) => b[1].size - a[1].size).slice(0, 5)) picked.add(path);
  for (const path of extra) if (source.entries.get(path)?.type === 'file') picked.add(path);
  return [...picked].sort();
}

export async function verifyRestore(
  source: Fingerprint,
  target: string,
  extraSample: readonly string[] = [],
): Promise<VerifyResult> {
  const restoredRoot = await locateRestored(target, source);
  const result: VerifyResult = {
    ok: false,
    restoredRoot,
    expectedFiles: source.files,
    files: 0,
    expectedBytes: source.bytes,
    bytes: 0,
    hashedFiles: 0,
    hashedBytes: 0,
    problems: [],
  };
  if (!restoredRoot) {
    result.problems.push(`no directory below ${target} holds the restored source tree`);
    return result;
  }
  const restored = await fingerprint(restoredRoot);
  result.files = restored.files;
  result.bytes = restored.bytes;
  const problem = (msg: string): void => {
    if (result.problems.length < 20) result.problems.push(msg);
    else if (result.problems.length === 20) result.problems.push('…');
  };
  if (restored.files !== source.files) problem(`file count ${restored.files}, expected ${source.files}`);
  if (restored.bytes !== source.bytes) problem(`total bytes ${restored.bytes}, expected ${source.bytes}`);
  if (restored.dirs !== source.dirs) problem(`directory count ${restored.dirs}, expected ${source.dirs}`);
  if (restored.symlinks !== source.symlinks)
    problem(`symlink count ${restored.symlinks}, expected ${source.symlinks}`);
  for (const [path, want] of source.entries) {
    const got = restored.entries.get(path);
    if (!got) problem(`missing: ${path}`);
    else if (got.type !== want.type) problem(`${path}: is a ${got.type}, expected a ${want.type}`);
    else if (got.size !== want.size) problem(`${path}: ${got.size} bytes, expected ${want.size}`);
    else if (got.target !== want.target)
      problem(`${path}: symlink to ${got.target}, expected ${want.target}`);
  }
  for (const path of restored.entries.keys()) if (!source.entries.has(path)) problem(`unexpected: ${path}`);
  for (const path of sample(source, 300, extraSample)) {
    const got = restored.entries.get(path);
    if (got?.type !== 'file') continue;
    const [a, b] = await Promise.all([sha256(join(source.root, path)), sha256(join(restoredRoot, path))]);
    result.hashedFiles++;
    result.hashedBytes += got.size;
    if (a !== b) problem(`${path}: content differs (sha256)`);
  }
  result.ok = result.problems.length === 0;
  return result;
}

// Compares two directory trees byte for byte and inode for inode, so restore tests can
// assert `compareTrees(source, restored)` is empty. Paths are handled as Buffers (names
// need not be UTF-8) and reported through printablePath().
import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { readXattrs, type Xattr } from '../../src/repo/fsmeta/xattrs.ts';
import { Semaphore } from '../../src/util/semaphore.ts';

/** One entry of a tree: `rel` is relative to the root (empty for the root itself). */
export type TreeEntry = { rel: Buffer; abs: Buffer; st: BigIntStats };

/**
 * Things compareTrees may skip. ctime, ino, dev and birthtime can never survive a copy,
 * so they are never compared (listing them is allowed and harmless); atime is not compared
 * either (reading a file for backup moves it). 'dirMtime' skips directory mtimes.
 */
export type IgnoreField = 'atime' | 'ctime' | 'ino' | 'dev' | 'birthtime' | 'dirMtime';
export type CompareOptions = {
  ignore?: IgnoreField[];
  /** Allowed |mtime difference| in ns (default 0). Node's utimes takes a double. */
  mtimeToleranceNs?: number;
};

const SLASH = Buffer.from('/');
const MiB = 1n << 20n;
const CHUNK = 1 << 20;

/** Every entry under `root` (root first, then pre-order, names sorted bytewise). */
export async function listTree(root: string | Buffer): Promise<TreeEntry[]> {
  const abs = Buffer.from(root);
  const out: TreeEntry[] = [{ rel: Buffer.alloc(0), abs, st: await lstat(abs, { bigint: true }) }];
  await walkInto(abs, Buffer.alloc(0), out);
  return out;
}

async function walkInto(dirAbs: Buffer, dirRel: Buffer, out: TreeEntry[]): Promise<void> {
  const names = (await readdir(dirAbs, { encoding: 'buffer' })).sort(Buffer.compare);
  for (const name of names) {
    const rel = dirRel.length === 0 ? name : Buffer.concat([dirRel, SLASH, name]);
    const abs = Buffer.concat([dirAbs, SLASH, name]);
    const st = await lstat(abs, { bigint: true });
    out.push({ rel, abs, st });
    if (st.isDirectory()) await walkInto(abs, rel, out);
  }
}

/** Escapes bytes that are not valid UTF-8 as \xNN, control and invisible chars too. */
export function printablePath(bytes: Buffer): string {
  if (bytes.length === 0) return '.';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    let ch: string | undefined;
    try {
      ch = len === 0 ? undefined : decoder.decode(bytes.subarray(i, i + len));
    } catch {
      ch = undefined;
    }
    if (ch === undefined || ch.length === 0 || (len > 1 && [...ch].length !== 1)) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i += 1;
      continue;
    }
    out += escapeChar(ch);
    i += len;
  }
  return out;
}

function escapeChar(ch: string): string {
  if (ch === '\\') return '\\\\';
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp > 0x7f && /[\p{M}\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/u.test(ch)) return `\\u{${cp.toString(16)}}`;
  return ch;
}

export function fileType(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const octal = (m: bigint): string => `0o${(m & 0o7777n).toString(8).padStart(4, '0')}`;

function formatNs(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Differences of metadata visible in lstat (both entries exist and have the same type). */
function compareStat(p: string, e: BigIntStats, a: BigIntStats, opts: CompareOptions): string[] {
  const diffs: string[] = [];
  const check = (what: string, x: string, y: string): void => {
    if (x !== y) diffs.push(`${p}: ${what} expected ${x}, actual ${y}`);
  };
  check('mode', octal(e.mode), octal(a.mode));
  check('uid', String(e.uid), String(a.uid));
  check('gid', String(e.gid), String(a.gid));
  if (e.isFile()) check('size', String(e.size), String(a.size));
  if (e.isCharacterDevice() || e.isBlockDevice()) check('rdev', String(e.rdev), String(a.rdev));
  const skipMtime = e.isDirectory() && opts.ignore?.includes('dirMtime') === true;
  const delta = e.mtimeNs - a.mtimeNs;
  const tolerance = BigInt(opts.mtimeToleranceNs ?? 0);
  if (!skipMtime && (delta > tolerance || -delta > tolerance)) {
    diffs.push(`${p}: mtime expected ${formatNs(e.mtimeNs)}, actual ${formatNs(a.mtimeNs)}`);
  }
  return diffs;
}

async function openNoAtime(path: Buffer): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    return open(path, constants.O_RDONLY);
  }
}

/** Offset of the first differing byte of two files of `size` bytes, or undefined. */
export async function firstDifference(x: Buffer, y: Buffer, size: number): Promise<number | undefined> {
  const [hx, hy] = [await openNoAtime(x), await openNoAtime(y)];
  try {
    const [bx, by] = [Buffer.allocUnsafe(Math.min(size, CHUNK)), Buffer.allocUnsafe(Math.min(size, CHUNK))];
    for (let pos = 0; pos < size; pos += CHUNK) {
      const want = Math.min(CHUNK, size - pos);
      const [rx, ry] = await Promise.all([readFull(hx, bx, want, pos), readFull(hy, by, want, pos)]);
      const n = Math.min(rx, ry);
      if (!bx.subarray(0, n).equals(by.subarray(0, n))) {
        let i = 0;
        while (bx[i] === by[i]) i++;
        return pos + i;
      }
      if (rx !== want || ry !== want) return pos + n; // a file shrank while reading
    }
    return undefined;
  } finally {
    await Promise.all([hx.close(), hy.close()]);
  }
}

async function readFull(h: FileHandle, buf: Buffer, want: number, pos: number): Promise<number> {
  let got = 0;
  while (got < want) {
    const { bytesRead } = await h.read(buf, got, want - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

function describeXattrs(list: Xattr[] | undefined): Map<string, string> {
  return new Map((list ?? []).map((x) => [x.name, `${x.value.length}B:${x.value.toString('hex')}`]));
}

async function compareXattrs(p: string, e: TreeEntry, a: TreeEntry): Promise<string[]> {
  if (e.st.isSymbolicLink()) return [];
  const [ex, ax] = [describeXattrs(await readXattrs(e.abs)), describeXattrs(await readXattrs(a.abs))];
  const names = [...new Set([...ex.keys(), ...ax.keys()])].sort();
  const clip = (s: string | undefined): string => (s === undefined ? 'missing' : s.slice(0, 80));
  return names
    .filter((n) => ex.get(n) !== ax.get(n))
    .map((n) => `${p}: xattr ${n} expected ${clip(ex.get(n))}, actual ${clip(ax.get(n))}`);
}

/** For regular files with big holes in `expected`, `actual` must be about as sparse. */
function compareSparseness(p: string, e: BigIntStats, a: BigIntStats): string[] {
  const allocE = e.blocks * 512n;
  const allocA = a.blocks * 512n;
  if (e.size - allocE < MiB || allocA <= allocE + MiB) return [];
  return [`${p}: sparseness lost: ${e.size}-byte file has ${allocE} bytes allocated, actual ${allocA}`];
}

async function compareEntry(e: TreeEntry, a: TreeEntry, opts: CompareOptions): Promise<string[]> {
  const p = printablePath(e.rel);
  const [te, ta] = [fileType(e.st), fileType(a.st)];
  if (te !== ta) return [`${p}: type expected ${te}, actual ${ta}`];
  const diffs = compareStat(p, e.st, a.st, opts);
  if (e.st.isSymbolicLink()) {
    const [le, la] = [await readlink(e.abs, 'buffer'), await readlink(a.abs, 'buffer')];
    if (!le.equals(la)) {
      diffs.push(`${p}: symlink target expected "${printablePath(le)}", actual "${printablePath(la)}"`);
    }
  }
  if (e.st.isFile() && e.st.size === a.st.size) {
    const at = await firstDifference(e.abs, a.abs, Number(e.st.size));
    if (at !== undefined) diffs.push(`${p}: content differs at byte ${at}`);
  }
  if (e.st.isFile()) diffs.push(...compareSparseness(p, e.st, a.st));
  diffs.push(...(await compareXattrs(p, e, a)));
  return diffs;
}

/** Path key (latin1) → keys of all paths sharing its inode (regular files etc., nlink > 1). */
function linkGroups(entries: TreeEntry[]): Map<string, string[]> {
  const byInode = new Map<string, string[]>();
  for (const e of entries) {
    if (e.st.isDirectory() || e.st.nlink < 2n) continue;
    const k = `${e.st.dev}:${e.st.ino}`;
    const members = byInode.get(k) ?? [];
    members.push(e.rel.toString('latin1'));
    byInode.set(k, members);
  }
  const groups = new Map<string, string[]>();
  for (const members of byInode.values()) for (const m of members) groups.set(m, members);
  return groups;
}

const showGroup = (keys: string[]): string =>
  `[${keys.map((k) => printablePath(Buffer.from(k, 'latin1'))).join(', ')}]`;

/** Compares which paths share an inode, as groups of names (never inode numbers). */
function compareHardLinks(exp: TreeEntry[], act: TreeEntry[]): string[] {
  const [ge, ga] = [linkGroups(exp), linkGroups(act)];
  const actKeys = new Set(act.map((a) => a.rel.toString('latin1')));
  const diffs = new Set<string>();
  for (const group of new Set(ge.values())) {
    const present = group.filter((k) => actKeys.has(k));
    const actual = new Set(
      present.map((k) => showGroup((ga.get(k) ?? [k]).filter((m) => ge.get(m) === group))),
    );
    const whole = showGroup(present);
    if (present.length < 2 || (actual.size === 1 && actual.has(whole))) continue;
    diffs.add(`hard links differ: expected one inode for ${whole}, actual ${[...actual].join(' + ')}`);
  }
  for (const group of new Set(ga.values())) {
    const first = ge.get(group[0]!);
    if (group.length < 2 || group.every((k) => first !== undefined && ge.get(k) === first)) continue;
    diffs.add(`hard links differ: actual links ${showGroup(group)}, which are separate inodes in expected`);
  }
  return [...diffs];
}

/**
 * Differences between the trees at `expected` and `actual` as readable lines (empty
 * means identical): presence, type, mode (12 bits), uid, gid, size, mtime (ns), symlink
 * target, content, xattrs, hard-link groups and sparseness. The roots are compared too.
 */
export async function compareTrees(
  expected: string | Buffer,
  actual: string | Buffer,
  opts: CompareOptions = {},
): Promise<string[]> {
  const [exp, act] = await Promise.all([listTree(expected), listTree(actual)]);
  const actByKey = new Map(act.map((a) => [a.rel.toString('latin1'), a]));
  const expKeys = new Set(exp.map((e) => e.rel.toString('latin1')));
  const pool = new Semaphore(8);
  const perEntry = await Promise.all(
    exp.map((e) => {
      const a = actByKey.get(e.rel.toString('latin1'));
      if (a === undefined) return [`${printablePath(e.rel)}: only in expected (${fileType(e.st)})`];
      return pool.run(() => compareEntry(e, a, opts));
    }),
  );
  const extra = act
    .filter((a) => !expKeys.has(a.rel.toString('latin1')))
    .map((a) => `${printablePath(a.rel)}: only in actual (${fileType(a.st)})`);
  return [...perEntry.flat(), ...extra, ...compareHardLinks(exp, act)];
}

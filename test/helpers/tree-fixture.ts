// Builds a deterministic, realistic and nasty directory tree for backup → restore tests
// (odd names, links, holes, modes, owners, xattrs, a FIFO), and mutates a share of it.
// Same seed and options → same names, bytes, modes, owners, links and mtimes.
import { execFile } from 'node:child_process';
import type { Cipheriv } from 'node:crypto';
import { createCipheriv, createHash } from 'node:crypto';
import {
  chmod,
  chown,
  lchown,
  link,
  lutimes,
  mkdir,
  open,
  rename,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { promisify } from 'node:util';
import { readXattrs, writeXattrs, type Xattr } from '../../src/repo/fsmeta/xattrs.ts';
import { listTree } from './tree-compare.ts';

export type FixtureOptions = {
  /** Number of small files (0 B .. 64 KiB) in nested directories; default 2000. */
  smallFiles?: number;
  /** Size of the one large file (half random, half log-like text); default 200 MiB. */
  largeFileBytes?: number;
  seed?: number;
};

export type FixtureInfo = {
  root: string;
  /** Regular-file paths (each hard-link name counts). */
  fileCount: number;
  /** Distinct regular-file inodes. */
  inodeCount: number;
  /** Directories below root (root not counted). */
  dirCount: number;
  symlinkCount: number;
  /** FIFOs and other special files. */
  specialCount: number;
  /** Apparent size of all distinct regular-file inodes. */
  totalBytes: number;
  /** user.* xattrs were set (the filesystem supports them). */
  xattrs: boolean;
  /** Running as root: chown, setuid-on-foreign-file, trusted.* and security.capability. */
  privileged: boolean;
  /** Notable entries, absolute paths. */
  paths: {
    largeFile: string;
    sparseFile: string;
    holeOnlyFile: string;
    /** Groups of names of one inode; one name is not UTF-8, hence Buffer. */
    hardlinks: Array<Array<string | Buffer>>;
    fifos: Buffer[];
    nonUtf8: Buffer[];
    emptyDirs: string[];
    xattrFile: string;
    xattrDir: string;
  };
};

const KiB = 1024;
const MiB = 1024 * KiB;
const OWNER = { uid: 1234, gid: 5678 };
const WORDS = (
  'the backup of a server is only as good as its last restore so we test every byte ' +
  'vault chunk index pack snapshot tree blob key nonce config agent schedule retention ' +
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'
).split(' ');
const DIR_WORDS = ['src', 'lib', 'docs', 'etc', 'var', 'log', 'cache', 'home', 'photos', 'projects', '2023'];
const EXTS = ['txt', 'log', 'json', 'bin', 'dat', 'md', 'csv', 'gz'];

/** Seeded decisions (mulberry32) and bytes (AES-128-CTR keystream over zeros). */
class Rng {
  #state: number;
  #cipher: Cipheriv;

  constructor(seed: number, purpose: string) {
    const key = createHash('sha256').update(`offsite-fixture:${purpose}:${seed}`).digest();
    this.#state = key.readUInt32LE(0);
    this.#cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    return this.#cipher.update(Buffer.alloc(n));
  }

  text(n: number): Buffer {
    const parts: string[] = [];
    let len = 0;
    while (len < n) {
      const line = Array.from({ length: 4 + this.int(12) }, () => this.pick(WORDS)).join(' ') + '\n';
      parts.push(line);
      len += line.length;
    }
    return Buffer.from(parts.join('')).subarray(0, n);
  }
}

/** Joins path parts (strings or raw-byte Buffers) with '/' into one Buffer path. */
export const b = (...parts: Array<string | Buffer>): Buffer =>
  Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [Buffer.from(p)] : [Buffer.from('/'), Buffer.from(p)])));
const isRoot = (): boolean => process.getuid?.() === 0;

/** Sizes spread log-uniformly over 0 .. 64 KiB, with some exact 0 and 64 KiB. */
function smallSize(rng: Rng): number {
  const r = rng.next();
  if (r < 0.05) return 0;
  if (r < 0.07) return 64 * KiB;
  return Math.floor(2 ** (rng.next() * 16));
}

/** Nested directories under data/: a depth-6 chain, one crowded dir, the rest random. */
async function makeDataDirs(root: string, rng: Rng, count: number): Promise<string[]> {
  const dirs = ['data/a', 'data/a/b', 'data/a/b/c', 'data/a/b/c/d', 'data/a/b/c/d/e', 'data/crowded'];
  for (let i = 0; dirs.length < count; i++) {
    const parent = rng.pick(dirs.filter((d) => d.split('/').length < 7));
    dirs.push(`${parent}/${rng.pick(DIR_WORDS)}-${i}`);
  }
  for (const d of dirs) await mkdir(`${root}/${d}`, { recursive: true });
  return dirs;
}

async function makeSmallFiles(root: string, rng: Rng, count: number): Promise<void> {
  const dirs = await makeDataDirs(root, rng, Math.max(8, Math.ceil(count / 25)));
  const written: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const dir = rng.next() < 0.25 ? 'data/crowded' : rng.pick(dirs);
    const size = smallSize(rng);
    const kind = rng.next();
    let data = kind < 0.45 ? rng.text(size) : rng.bytes(size);
    if (kind > 0.92 && written.length > 0) data = rng.pick(written); // duplicate content
    written.push(data);
    if (written.length > 64) written.shift();
    await writeFile(`${root}/${dir}/${rng.pick(WORDS)}-${i}.${rng.pick(EXTS)}`, data);
  }
}

function logText(from: number, bytes: number): { data: Buffer; next: number } {
  const lines: string[] = [];
  let len = 0;
  let n = from;
  while (len < bytes) {
    const line = `2024-03-${String(1 + (n % 28)).padStart(2, '0')}T12:${String(n % 60).padStart(2, '0')}:07Z INFO worker-${n % 8} request ${n} GET /api/v1/items/${n % 1000} status=200 bytes=${(n * 7919) % 65536}\n`;
    lines.push(line);
    len += line.length;
    n++;
  }
  return { data: Buffer.from(lines.join('')).subarray(0, bytes), next: n };
}

async function makeLargeFile(path: string, rng: Rng, size: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const half = Math.floor(size / 2);
    for (let pos = 0; pos < half; pos += MiB) await fh.write(rng.bytes(Math.min(MiB, half - pos)));
    let line = 0;
    for (let pos = half; pos < size; pos += MiB) {
      const chunk = logText(line, Math.min(MiB, size - pos));
      line = chunk.next;
      await fh.write(chunk.data);
    }
  } finally {
    await fh.close();
  }
}

async function makeSparse(dir: string, rng: Rng): Promise<void> {
  const fh = await open(`${dir}/sparse-64m.img`, 'w');
  try {
    await fh.truncate(64 * MiB);
    await fh.write(rng.bytes(MiB), 0, MiB, 10 * MiB);
    await fh.write(rng.text(64 * KiB), 0, 64 * KiB, 64 * MiB - 64 * KiB);
  } finally {
    await fh.close();
  }
  const hole = await open(`${dir}/all-hole-16m.img`, 'w');
  await hole.truncate(16 * MiB);
  await hole.close();
  await writeFile(`${dir}/dense-zeros-1m.bin`, Buffer.alloc(MiB)); // written zeros: not sparse
}

const UNICODE_NAMES = [
  'café.txt', // é precomposed (NFC)
  'cafe\u0301.txt', // e + combining acute (NFD): a different name that looks the same
  '日本語のファイル.txt',
  '📦 backup 🎉.dat',
  '👨‍👩‍👧 family.txt',
  'שלום-עולם.txt',
  'Привет.md',
  'name with  spaces .txt',
  ' leading-space',
  'trailing-dot.',
  '-leading-dash.txt',
  '--help',
  'new\nline.txt',
  'tab\there',
  'back\\slash',
  `quotes'"both`,
  '$(echo pwned);`x`',
  '*glob?[x]',
  '.hidden',
  '..double-dot',
  `${'a'.repeat(250)}.txt`, // 254 bytes
  '日'.repeat(85), // 255 bytes
];

async function makeNames(dir: string, rng: Rng): Promise<Buffer[]> {
  for (const name of UNICODE_NAMES) await writeFile(b(dir, name), rng.text(1 + rng.int(300)));
  await mkdir(b(dir, 'dir\nwith newline/ünïcödé dir'), { recursive: true });
  await writeFile(b(dir, 'dir\nwith newline/ünïcödé dir/inner.txt'), rng.text(100));
  const raw = [
    [0x66, 0xff, 0xfe],
    [0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
  ];
  const nonUtf8 = raw.map((bytes) => b(dir, Buffer.from(bytes)));
  for (const p of nonUtf8) await writeFile(p, rng.bytes(1 + rng.int(500)));
  const rawDir = b(dir, Buffer.from([0xff, 0x64, 0x69, 0x72]));
  await mkdir(rawDir);
  await writeFile(b(rawDir, Buffer.from([0x80, 0x81])), rng.text(42));
  await writeFile(b(rawDir, 'utf8-inside.txt'), rng.text(42));
  return [...nonUtf8, rawDir];
}

async function makeSymlinks(dir: string): Promise<void> {
  await mkdir(`${dir}/sub`, { recursive: true });
  await writeFile(`${dir}/target.txt`, 'symlink target\n');
  const links: Array<[string | Buffer, string | Buffer]> = [
    ['target.txt', 'relative'],
    ['../names/café.txt', 'relative-up'],
    ['/etc/passwd', 'absolute'],
    ['/nonexistent/offsite-fixture/target', 'absolute-dangling'],
    ['does/not/exist', 'dangling'],
    ['sub', 'to-dir'],
    ['..', 'sub/to-parent'],
    [Buffer.from([0x74, 0xff, 0x67, 0x74]), 'non-utf8-target'],
    ['target.txt', Buffer.from([0x6c, 0xfe, 0x6b])],
    ['loop-b', 'loop-a'],
    ['loop-a', 'loop-b'],
    ['relative', 'chain'],
    ['日本語 → target', '🔗 unicode link'],
  ];
  for (const [target, name] of links) await symlink(target, b(dir, name));
  if (isRoot()) await lchown(`${dir}/relative`, OWNER.uid, OWNER.gid);
}

async function makeHardlinks(root: string, rng: Rng): Promise<Array<Array<string | Buffer>>> {
  for (const d of ['hardlinks/a', 'hardlinks/b', 'hardlinks/c/deeper']) {
    await mkdir(`${root}/${d}`, { recursive: true });
  }
  const three = ['a/original.bin', 'b/second-name.bin', 'c/deeper/third.bin'].map(
    (p) => `${root}/hardlinks/${p}`,
  );
  const pair = [`${root}/hardlinks/a/pair-1.txt`, `${root}/hardlinks/a/pair-2.txt`];
  const raw = b(root, 'hardlinks/b', Buffer.from([0x6c, 0x6e, 0xff]));
  await writeFile(three[0]!, rng.bytes(20 * KiB));
  await writeFile(pair[0]!, rng.text(3000));
  for (const p of three.slice(1)) await link(three[0]!, p);
  for (const p of [pair[1]!, raw]) await link(pair[0]!, p);
  return [three, [...pair, raw]];
}

async function makeEmpties(dir: string): Promise<string[]> {
  const dirs = ['empty-dir', 'nested/a/b/c/d', 'nested/sibling', 'private-0700'];
  for (const d of dirs) await mkdir(`${dir}/${d}`, { recursive: true });
  await chmod(`${dir}/private-0700`, 0o700);
  await writeFile(`${dir}/empty-file`, '');
  await mkdir(`${dir}/only-empty-file`);
  await writeFile(`${dir}/only-empty-file/zero`, '');
  return ['empty-dir', 'nested/a/b/c/d', 'nested/sibling', 'private-0700'].map((d) => `${dir}/${d}`);
}

/** chown before chmod: chown clears setuid/setgid (and security.capability). */
async function makeModes(dir: string, rng: Rng): Promise<void> {
  const files: Array<[string, number, boolean]> = [
    ['private-0600', 0o600, false],
    ['script-0755.sh', 0o755, false],
    ['readonly-0444', 0o444, false],
    ['setuid-04755', 0o4755, true],
    ['setgid-02755', 0o2755, true],
    ['no-perms-0000', 0o000, false],
    ['odd-0531', 0o531, false],
  ];
  for (const [name, mode, foreign] of files) {
    await writeFile(`${dir}/${name}`, rng.text(200));
    if (foreign && isRoot()) await chown(`${dir}/${name}`, OWNER.uid, OWNER.gid);
    await chmod(`${dir}/${name}`, mode);
  }
  await mkdir(`${dir}/sticky-01777`);
  await writeFile(`${dir}/sticky-01777/inside.txt`, rng.text(50));
  await chmod(`${dir}/sticky-01777`, 0o1777);
  await mkdir(`${dir}/readonly-dir-0555`);
  await writeFile(`${dir}/readonly-dir-0555/inside.txt`, rng.text(50)); // restore must chmod dirs last
  await chmod(`${dir}/readonly-dir-0555`, 0o555);
}

async function makeOwners(dir: string, rng: Rng): Promise<void> {
  const owners: Array<[string, number, number]> = [
    ['uid-1234-gid-5678', OWNER.uid, OWNER.gid],
    ['uid-only-1234', OWNER.uid, 0],
    ['gid-only-5678', 0, OWNER.gid],
  ];
  for (const [name, uid, gid] of owners) {
    await writeFile(`${dir}/${name}`, rng.text(100));
    if (isRoot()) await chown(`${dir}/${name}`, uid, gid);
  }
  await mkdir(`${dir}/dir-1234`);
  await writeFile(`${dir}/dir-1234/inside.txt`, rng.text(100));
  if (isRoot()) await chown(`${dir}/dir-1234`, OWNER.uid, OWNER.gid);
}

/** POSIX ACL xattr: user::rw-, user:1234:r--, group::r--, mask::r--, other::--- (mode 0640). */
function aclValue(): Buffer {
  const entries: Array<[number, number, number]> = [
    [0x01, 6, 0xffffffff],
    [0x02, 4, OWNER.uid],
    [0x04, 4, 0xffffffff],
    [0x10, 4, 0xffffffff],
    [0x20, 0, 0xffffffff],
  ];
  const buf = Buffer.alloc(4 + 8 * entries.length);
  buf.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    buf.writeUInt16LE(tag, 4 + 8 * i);
    buf.writeUInt16LE(perm, 6 + 8 * i);
    buf.writeUInt32LE(id, 8 + 8 * i);
  });
  return buf;
}

/** Returns false when the filesystem has no user.* xattrs (nothing is set then). */
async function makeXattrs(dir: string, rng: Rng): Promise<boolean> {
  await mkdir(`${dir}/dir-with-xattrs`);
  await writeFile(`${dir}/file-with-xattrs`, rng.text(500));
  const fileAttrs: Xattr[] = [
    { name: 'user.comment', value: Buffer.from('backed up by offsite ✓') },
    { name: 'user.binary', value: rng.bytes(64) },
    { name: 'user.empty', value: Buffer.alloc(0) },
    { name: 'user.large', value: rng.bytes(3000) },
  ];
  if (!(await writeXattrs(b(dir, 'file-with-xattrs'), fileAttrs))) return false;
  await writeXattrs(b(dir, 'dir-with-xattrs'), [{ name: 'user.dir', value: Buffer.from('on a directory') }]);
  await writeFile(`${dir}/acl-0640`, rng.text(100));
  await chmod(`${dir}/acl-0640`, 0o640);
  await writeXattrs(b(dir, 'acl-0640'), [{ name: 'system.posix_acl_access', value: aclValue() }]);
  if (!isRoot()) return true;
  await writeFile(`${dir}/trusted-attr`, rng.text(100));
  await writeXattrs(b(dir, 'trusted-attr'), [{ name: 'trusted.offsite', value: Buffer.from([1, 2, 3]) }]);
  await writeFile(`${dir}/capability-net-raw`, rng.bytes(100));
  await chmod(`${dir}/capability-net-raw`, 0o755);
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep, v2
  await writeXattrs(b(dir, 'capability-net-raw'), [{ name: 'security.capability', value: cap }]);
  return (await readXattrs(b(dir, 'file-with-xattrs')))?.length === fileAttrs.length;
}

/** FIFOs: one by name, one moved to a non-UTF-8 name (mkfifo only takes string paths). */
async function makeFifos(dir: string): Promise<Buffer[]> {
  const run = promisify(execFile);
  await run('mkfifo', ['-m', '0640', `${dir}/pipe`, `${dir}/tmp-pipe`]);
  const raw = b(dir, Buffer.from([0x70, 0xff, 0x70]));
  await rename(`${dir}/tmp-pipe`, raw);
  return [b(dir, 'pipe'), raw];
}

/** Seconds (with a fraction) for an entry: a hash of seed and path, 2001 .. 2024. */
function timeFor(seed: number, rel: Buffer, salt: string): number {
  const h = createHash('sha256').update(`${seed}:${salt}:`).update(rel).digest();
  return 978307200 + (h.readUInt32LE(0) % 725846400) + h.readUInt32LE(4) / 2 ** 32;
}

const SPECIAL_TIMES: Record<string, number> = {
  'times/before-1970': -12345678.25,
  'times/epoch': 0,
  'times/far-future-2100': 4102444800.5,
  'times/whole-second': 1500000000,
  'times/sub-microsecond': 1700000000.0000005,
};

async function makeTimeFiles(dir: string): Promise<void> {
  for (const name of Object.keys(SPECIAL_TIMES)) await writeFile(`${dir}/${name.slice(6)}`, name);
}

/** Last step: every entry (dirs too, symlinks via lutimes) gets its deterministic times. */
async function applyTimes(root: string, seed: number): Promise<void> {
  const entries = await listTree(root);
  for (const e of entries.reverse()) {
    const key = e.rel.toString('latin1');
    const mtime = SPECIAL_TIMES[key] ?? timeFor(seed, e.rel, 'm');
    // Strings, not numbers: Node turns a negative number into "now" (a string is not).
    await lutimes(e.abs, String(timeFor(seed, e.rel, 'a')), String(mtime));
  }
}

async function summarize(
  root: string,
): Promise<Omit<FixtureInfo, 'root' | 'xattrs' | 'privileged' | 'paths'>> {
  const entries = await listTree(root);
  const inodes = new Map<bigint, bigint>();
  const count = { fileCount: 0, dirCount: -1, symlinkCount: 0, specialCount: 0 };
  for (const { st } of entries) {
    if (st.isFile()) {
      count.fileCount++;
      inodes.set(st.ino, st.size);
    } else if (st.isDirectory()) count.dirCount++;
    else if (st.isSymbolicLink()) count.symlinkCount++;
    else count.specialCount++;
  }
  const totalBytes = Number([...inodes.values()].reduce((a, s) => a + s, 0n));
  return { ...count, inodeCount: inodes.size, totalBytes };
}

/** Creates the fixture tree under `root` (created if missing; should be empty). */
export async function makeTree(root: string, opts: FixtureOptions = {}): Promise<FixtureInfo> {
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed, 'tree');
  const dirs = [
    'large',
    'sparse',
    'names',
    'links',
    'empty',
    'modes',
    'owners',
    'xattrs',
    'special',
    'times',
  ];
  for (const d of dirs) await mkdir(`${root}/${d}`, { recursive: true });
  await makeSmallFiles(root, rng, opts.smallFiles ?? 2000);
  await mkdir(`${root}/${Array.from({ length: 10 }, (_, i) => `level-${i}-${'x'.repeat(90)}`).join('/')}`, {
    recursive: true,
  });
  await makeLargeFile(`${root}/large/big-file.bin`, rng, opts.largeFileBytes ?? 200 * MiB);
  await makeSparse(`${root}/sparse`, rng);
  const nonUtf8 = await makeNames(`${root}/names`, rng);
  await makeSymlinks(`${root}/links`);
  const hardlinks = await makeHardlinks(root, rng);
  const emptyDirs = await makeEmpties(`${root}/empty`);
  await makeModes(`${root}/modes`, rng);
  await makeOwners(`${root}/owners`, rng);
  const xattrs = await makeXattrs(`${root}/xattrs`, rng);
  const fifos = await makeFifos(`${root}/special`);
  await makeTimeFiles(`${root}/times`);
  await applyTimes(root, seed);
  return {
    root,
    ...(await summarize(root)),
    xattrs,
    privileged: isRoot(),
    paths: {
      largeFile: `${root}/large/big-file.bin`,
      sparseFile: `${root}/sparse/sparse-64m.img`,
      holeOnlyFile: `${root}/sparse/all-hole-16m.img`,
      hardlinks,
      fifos,
      nonUtf8,
      emptyDirs,
      xattrFile: `${root}/xattrs/file-with-xattrs`,
      xattrDir: `${root}/xattrs/dir-with-xattrs`,
    },
  };
}

export type MutationInfo = {
  /** Bytes written: overwritten in place plus appended. */
  bytesChanged: number;
  filesChanged: number;
  changedPaths: Buffer[];
};

/** Flips `len` bytes at `pos` (every byte changes; the size stays). */
async function overwrite(path: Buffer, rng: Rng, pos: number, len: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, pos);
    const noise = rng.bytes(len);
    for (let i = 0; i < len; i++) buf[i] = buf[i]! ^ (1 + (noise[i]! % 255));
    await fh.write(buf, 0, len, pos);
  } finally {
    await fh.close();
  }
}

/**
 * Changes the contents of about `fraction` of the regular files (half rewritten in place
 * keeping their size, half appended to), and rewrites one contiguous `fraction` of every
 * file over 1 MiB (the large file), so about `fraction` of the data changes. Sparse and
 * hard-linked files are left alone. Deterministic for a given tree and seed, except that
 * changed files get mtime = now (set through utimes, so restorable to the nanosecond).
 * Writing drops security.capability, as any real write would.
 */
export async function mutateTree(root: string, fraction: number, seed: number): Promise<MutationInfo> {
  const rng = new Rng(seed, 'mutate');
  const info: MutationInfo = { bytesChanged: 0, filesChanged: 0, changedPaths: [] };
  for (const { abs, st } of await listTree(root)) {
    const size = Number(st.size);
    const sparse = st.blocks * 512n + BigInt(MiB) <= st.size;
    if (!st.isFile() || sparse || st.nlink > 1n) continue;
    const big = size > MiB;
    if (!big && rng.next() >= fraction) continue;
    const len = big ? Math.round(size * fraction) : 1 + rng.int(Math.max(1, Math.floor(size / 4)));
    if (len === 0) continue;
    if (size > 0 && (big || rng.next() < 0.5)) {
      await overwrite(abs, rng, rng.int(size - Math.min(len, size) + 1), Math.min(len, size));
      info.bytesChanged += Math.min(len, size);
    } else {
      const extra = rng.bytes(1 + rng.int(4096));
      await writeFile(abs, extra, { flag: 'a' });
      info.bytesChanged += extra.length;
    }
    const now = Date.now() / 1000; // a double-born time: a restore can reproduce it exactly
    await lutimes(abs, now, now);
    info.filesChanged++;
    info.changedPaths.push(abs);
  }
  return info;
}

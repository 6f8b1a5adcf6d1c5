import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EntryStat, FolderScan, type ScannedEntry } from './entries.ts';
import { nativeFs } from './native.ts';
import { readXattrs, writeXattrs } from './xattrs.ts';

let dir = '';
const skip = nativeFs?.lstatMany ? false : 'the addon is not built';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offsite-entries-'));
});
after(async () => {
  await chmod(join(dir, 'locked'), 0o755).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'mtimeNs', 'ctimeNs'] as const;
const TYPES = [
  'isFile',
  'isDirectory',
  'isSymbolicLink',
  'isFIFO',
  'isSocket',
  'isCharacterDevice',
  'isBlockDevice',
] as const;

function sameAsNode(got: EntryStat, want: EntryStat, what: string): void {
  for (const f of FIELDS) assert.equal(got[f], want[f], `${what}: ${f}`);
  for (const t of TYPES) assert.equal(got[t](), want[t](), `${what}: ${t}`);
}

async function scanAll(folder: Buffer, names: Buffer[]): Promise<ScannedEntry[]> {
  const scan = FolderScan.of(folder, names)!;
  return Promise.all(names.map((_, i) => scan.entry(i)));
}

test('every kind of entry reads as Node reads it, with its xattrs', { skip }, async () => {
  await writeFile(join(dir, 'file'), 'contents');
  await link(join(dir, 'file'), join(dir, 'hardlink'));
  await mkdir(join(dir, 'folder'));
  await symlink('file', join(dir, 'symlink'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const odd = Buffer.from([0x6f, 0xff, 0xfe]);
  await writeFile(Buffer.concat([Buffer.from(`${dir}/`), odd]), 'x');
  const attrs = [
    { name: 'user.b', value: Buffer.from([0, 1, 255]) },
    { name: 'user.a', value: Buffer.alloc(0) },
  ];
  const xattrsHere = await writeXattrs(Buffer.from(join(dir, 'file')), attrs);
  const names = ['file', 'hardlink', 'folder', 'symlink', 'fifo'].map((n) => Buffer.from(n)).concat([odd]);
  const scanned = await scanAll(Buffer.from(dir), names);
  for (const [i, name] of names.entries()) {
    const path = Buffer.concat([Buffer.from(`${dir}/`), name]);
    const entry = scanned[i]!;
    assert.equal(entry.error, undefined);
    if (entry.error) continue;
    sameAsNode(entry.stat, await lstat(path, { bigint: true }), name.toString());
    const kept = entry.stat.isFile() || entry.stat.isDirectory();
    assert.deepEqual(entry.xattrs, kept ? await readXattrs(path) : undefined, `${name}: xattrs`);
  }
  const first = scanned[0]!;
  if (xattrsHere && !first.error) {
    assert.deepEqual(
      first.xattrs?.map((x) => x.name),
      ['user.a', 'user.b'],
    );
  }
});

test('a vanished entry is an ENOENT error of its own; the others are read', { skip }, async () => {
  const names = [Buffer.from('file'), Buffer.from('gone'), Buffer.from('folder')];
  const [file, gone, folder] = await scanAll(Buffer.from(dir), names);
  assert.equal(file!.error, undefined);
  assert.equal(folder!.error, undefined);
  assert.equal(gone!.error?.code, 'ENOENT');
  assert.match(gone!.error!.message, /^ENOENT: .*, lstat$/);
});

test('an unreadable folder gives EACCES for its entries (unless root)', { skip }, async () => {
  await mkdir(join(dir, 'locked'));
  await writeFile(join(dir, 'locked', 'inside'), 'x');
  await chmod(join(dir, 'locked'), 0o000);
  const [inside] = await scanAll(Buffer.from(join(dir, 'locked')), [Buffer.from('inside')]);
  if (process.getuid?.() === 0) assert.equal(inside!.error, undefined);
  else assert.equal(inside!.error?.code, 'EACCES');
});

test('a large folder is read in batches, in order, and an earlier batch again when asked', {
  skip,
}, async () => {
  const big = join(dir, 'big');
  await mkdir(big);
  const names = Array.from({ length: 300 }, (_, i) => Buffer.from(`f${i}`));
  for (const [i, n] of names.entries()) await writeFile(join(big, n.toString()), 'y'.repeat(i));
  const scan = FolderScan.of(Buffer.from(big), names)!;
  const sizes: bigint[] = [];
  for (let i = 0; i < names.length; i++) {
    const e = await scan.entry(i);
    assert.ok(!e.error);
    if (!e.error) sizes.push(e.stat.size);
  }
  assert.deepEqual(
    sizes,
    names.map((_, i) => BigInt(i)),
  );
  const again = await scan.entry(5);
  assert.equal(again.error ? -1n : again.stat.size, 5n, 'an earlier batch is read again when asked');
});

test('names with a slash or a NUL are refused', { skip }, () => {
  assert.throws(
    () => nativeFs!.lstatMany!(Buffer.from(dir), [Buffer.from('a/b')], () => {}),
    /names must be/,
  );
  assert.throws(
    () => nativeFs!.lstatMany!(Buffer.from(dir), [Buffer.from('a\0b')], () => {}),
    /names must be/,
  );
});

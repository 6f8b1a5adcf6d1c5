import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readXattrs, writeXattrs, type Xattr } from './xattrs.ts';

let dir = '';
const buf = (...parts: Array<string | Buffer>): Buffer =>
  Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [Buffer.from(p)] : [Buffer.from('/'), Buffer.from(p)])));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offsite-xattrs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample: Xattr[] = [
  { name: 'user.z-last', value: Buffer.from('text value') },
  { name: 'user.binary', value: Buffer.from([0, 255, 1, 254, 0, 10, 13]) },
  { name: 'user.empty', value: Buffer.alloc(0) },
];
const sorted = [...sample].sort((a, b) => (a.name < b.name ? -1 : 1));

test('roundtrips user.* attrs, binary and empty values, sorted by name', async () => {
  const file = buf(dir, 'plain.txt');
  await writeFile(file, 'x');
  assert.deepEqual(await readXattrs(file), []);
  assert.equal(await writeXattrs(file, sample), true);
  assert.deepEqual(await readXattrs(file), sorted);
});

test('works on a non-UTF-8 file name', async () => {
  const file = buf(dir, Buffer.from([0x66, 0xff, 0xfe]));
  await writeFile(file, 'x');
  assert.equal(await writeXattrs(file, sample), true);
  assert.deepEqual(await readXattrs(file), sorted);
});

test('works on a directory with a non-UTF-8 name', async () => {
  const sub = buf(dir, Buffer.from([0xc0, 0xaf, 0x64]));
  await mkdir(sub);
  assert.equal(await writeXattrs(sub, sample), true);
  assert.deepEqual(await readXattrs(sub), sorted);
});

test('removeOthers replaces the whole set', async () => {
  const file = buf(dir, 'replace.txt');
  await writeFile(file, 'x');
  await writeXattrs(file, sample);
  const only = [{ name: 'user.new', value: Buffer.from('n') }];
  assert.equal(await writeXattrs(file, only, { removeOthers: true }), true);
  assert.deepEqual(await readXattrs(file), only);
});

test('never touches symlinks or their targets', async () => {
  const target = buf(dir, 'target.txt');
  const link = buf(dir, 'link');
  await writeFile(target, 'x');
  await symlink('target.txt', link);
  await writeXattrs(target, [{ name: 'user.on-target', value: Buffer.from('t') }]);
  assert.deepEqual(await readXattrs(link), [], "a symlink's own attributes, not its target's");
  assert.equal(await writeXattrs(link, sample), false, 'user.* cannot be stored on a symlink');
  assert.deepEqual(
    (await readXattrs(target))?.map((x) => x.name),
    ['user.on-target'],
    'the target is untouched',
  );
});

test('missing files propagate ENOENT', async () => {
  await assert.rejects(readXattrs(buf(dir, 'nope')), { code: 'ENOENT' });
  await assert.rejects(writeXattrs(buf(dir, 'nope'), sample), { code: 'ENOENT' });
});

test('an empty write to a missing file is a no-op', async () => {
  assert.equal(await writeXattrs(buf(dir, 'nope'), []), true);
});

test('a filesystem without xattr support: read gives undefined or [], write gives false', async () => {
  const proc = Buffer.from('/proc/self/status'); // procfs rejects setxattr with EOPNOTSUPP
  const got = await readXattrs(proc);
  assert.ok(got === undefined || got.length === 0);
  assert.equal(await writeXattrs(proc, sample), false);
});

test('trusted.* needs root; as root it roundtrips', { skip: process.getuid?.() !== 0 }, async () => {
  const file = buf(dir, 'trusted.txt');
  await writeFile(file, 'x');
  const attrs = [{ name: 'trusted.offsite', value: Buffer.from([1, 2, 3]) }];
  assert.equal(await writeXattrs(file, attrs), true);
  assert.deepEqual(await readXattrs(file), attrs);
});

// Tests of the fixture and comparison helpers themselves, so a restore test that uses
// them cannot pass silently: each kind of difference must be reported, exactly once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { PathLike } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdtemp,
  open,
  readlink,
  rename,
  rm,
  rmdir,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readXattrs, writeXattrs } from '../../src/repo/fsmeta/xattrs.ts';
import { compareTrees, listTree, printablePath } from './tree-compare.ts';
import { b, type FixtureInfo, makeTree, mutateTree } from './tree-fixture.ts';

const run = promisify(execFile);
const MiB = 1 << 20;
let base = '';
let src = '';
let info: FixtureInfo;
let copies = 0;

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'offsite-tree-'));
  src = join(base, 'src');
  info = await makeTree(src, { smallFiles: 50, largeFileBytes: 2 * MiB, seed: 7 });
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function copy(): Promise<string> {
  const dst = join(base, `copy-${copies++}`);
  await run('cp', ['-a', src, dst]);
  return dst;
}

/** A utimes argument that reproduces `ns` exactly when `ns` came from a double. */
const utime = (ns: bigint): string => String(Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9);

/** Runs `fn`, then puts back the atime/mtime the paths had before (as if untouched). */
async function keepTimes(paths: PathLike[], fn: () => Promise<void>): Promise<void> {
  const saved = await Promise.all(paths.map((p) => lstat(p, { bigint: true })));
  await fn();
  for (const [i, p] of paths.entries()) await lutimes(p, utime(saved[i]!.atimeNs), utime(saved[i]!.mtimeNs));
}

/** Asserts the differences are exactly `expected`, one pattern per line, in order. */
function assertDiffs(diffs: string[], expected: RegExp[]): void {
  assert.equal(diffs.length, expected.length, `got:\n${diffs.join('\n')}`);
  for (const [i, re] of expected.entries()) assert.match(diffs[i]!, re);
}

describe('makeTree', () => {
  test('a cp -a copy compares identical', async () => {
    assert.deepEqual(await compareTrees(src, await copy()), []);
  });

  test('the same seed builds the same tree; another seed does not', async () => {
    await makeTree(join(base, 'again'), { smallFiles: 50, largeFileBytes: 2 * MiB, seed: 7 });
    assert.deepEqual(await compareTrees(src, join(base, 'again')), []);
    await makeTree(join(base, 'other'), { smallFiles: 50, largeFileBytes: 2 * MiB, seed: 8 });
    assert.ok((await compareTrees(src, join(base, 'other'))).length > 10);
  });

  test('has the notable entries it promises', async () => {
    assert.ok(info.fileCount >= 100 && info.dirCount >= 20 && info.symlinkCount >= 10);
    assert.equal((await lstat(info.paths.largeFile)).size, 2 * MiB);
    const sparse = await lstat(info.paths.sparseFile);
    assert.ok(sparse.size === 64 * MiB && sparse.blocks * 512 < 2 * MiB);
    assert.equal((await lstat(info.paths.holeOnlyFile)).blocks, 0);
    for (const group of info.paths.hardlinks) {
      for (const p of group) assert.equal((await lstat(p)).nlink, group.length);
    }
    for (const p of info.paths.fifos) assert.ok((await lstat(p)).isFIFO());
    for (const p of info.paths.nonUtf8) assert.match(printablePath(Buffer.from(p)), /\\x[89a-f]/);
    assert.deepEqual(
      await readlink(b(src, 'links/non-utf8-target'), 'buffer'),
      Buffer.from('74ff6774', 'hex'),
    );
    assert.equal((await lstat(join(src, 'modes/setuid-04755'))).mode & 0o7777, 0o4755);
    assert.equal((await lstat(join(src, 'modes/sticky-01777'))).mode & 0o7777, 0o1777);
  });

  test('owners and xattrs are set where possible', { skip: process.getuid?.() !== 0 }, async () => {
    const st = await lstat(join(src, 'owners/uid-1234-gid-5678'));
    assert.deepEqual([st.uid, st.gid], [1234, 5678]);
    assert.equal((await lstat(join(src, 'links/relative'))).uid, 1234);
    if (!info.xattrs) return;
    const names = (await readXattrs(Buffer.from(info.paths.xattrFile)))?.map((x) => x.name);
    assert.deepEqual(names, ['user.binary', 'user.comment', 'user.empty', 'user.large']);
    assert.equal((await readXattrs(Buffer.from(info.paths.xattrDir)))?.length, 1);
  });

  test('nests deep and sets every mtime (directories last) in the past', async () => {
    const entries = await listTree(src);
    const depth = Math.max(...entries.map((e) => e.rel.toString('latin1').split('/').length));
    assert.ok(depth >= 6);
    const now = BigInt(Date.now() - 86_400_000) * 1_000_000n;
    const recent = entries.filter((e) => e.st.mtimeNs > now && !e.rel.toString().includes('2100'));
    assert.deepEqual(
      recent.map((e) => printablePath(e.rel)),
      [],
    );
    assert.ok(
      entries.some((e) => e.st.mtimeNs % 1000n !== 0n),
      'sub-microsecond mtimes',
    );
    assert.ok(
      entries.some((e) => e.st.mtimeNs < 0n),
      'a pre-1970 mtime',
    );
  });
});

describe('mutateTree', () => {
  test('changes about `fraction` of the files, deterministically, and nothing else', async () => {
    const [one, two] = [await copy(), await copy()];
    const m1 = await mutateTree(one, 0.1, 42);
    const m2 = await mutateTree(two, 0.1, 42);
    assert.ok(m1.filesChanged >= 3 && m1.filesChanged < 40, `${m1.filesChanged} files`);
    assert.ok(m1.bytesChanged >= 0.1 * 2 * MiB, `${m1.bytesChanged} bytes`);
    assert.equal(m1.bytesChanged, m2.bytesChanged);
    assert.deepEqual(await compareTrees(one, two, { mtimeToleranceNs: 3600e9 }), []);
    const rels = m1.changedPaths.map((p) => printablePath(p.subarray(one.length + 1)));
    const diffs = await compareTrees(src, one);
    for (const d of diffs)
      assert.ok(
        rels.some((r) => d.startsWith(`${r}: `)),
        d,
      );
    for (const r of rels)
      assert.ok(
        diffs.some((d) => d.startsWith(`${r}: mtime`)),
        r,
      );
  });
});

describe('printablePath', () => {
  test('escapes what is not printable UTF-8', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(0), '.'],
      [Buffer.from('a/b c'), 'a/b c'],
      [Buffer.from('café/日本語/📦'), 'café/日本語/📦'],
      [Buffer.from('cafe\u0301'), 'cafe\\u{301}'],
      [Buffer.from('new\nline\ttab\\'), 'new\\nline\\ttab\\\\'],
      [Buffer.from([0x66, 0xff, 0xfe]), 'f\\xff\\xfe'],
      [Buffer.from([0xc0, 0xaf]), '\\xc0\\xaf'],
      [Buffer.from([0xed, 0xa0, 0x80]), '\\xed\\xa0\\x80'],
      [Buffer.from([0xe6, 0x97]), '\\xe6\\x97'],
      [Buffer.from([0x80, 0x41, 0x1b]), '\\x80A\\x1b'],
    ];
    for (const [input, want] of cases) assert.equal(printablePath(input), want);
  });
});

describe('compareTrees reports each kind of difference', () => {
  const root = process.getuid?.() === 0;

  test('one changed byte', async () => {
    const c = await copy();
    const f = join(c, 'links/target.txt');
    await keepTimes([f], async () => {
      const fh = await open(f, 'r+');
      await fh.write(Buffer.from('X'), 0, 1, 3);
      await fh.close();
    });
    assertDiffs(await compareTrees(src, c), [/^links\/target\.txt: content differs at byte 3$/]);
  });

  test('an appended byte is a size change', async () => {
    const c = await copy();
    const f = join(c, 'links/target.txt');
    await keepTimes([f], () => writeFile(f, 'x', { flag: 'a' }));
    assertDiffs(await compareTrees(src, c), [/^links\/target\.txt: size expected 15, actual 16$/]);
  });

  test('chmod, including a lost setuid bit', async () => {
    const c = await copy();
    await chmod(join(c, 'modes/private-0600'), 0o640);
    await chmod(join(c, 'modes/setuid-04755'), 0o755);
    assertDiffs(await compareTrees(src, c), [
      /^modes\/private-0600: mode expected 0o0600, actual 0o0640$/,
      /^modes\/setuid-04755: mode expected 0o4755, actual 0o0755$/,
    ]);
  });

  test('chown of uid, of gid, and of a symlink', { skip: !root }, async () => {
    const c = await copy();
    await lchown(join(c, 'owners/uid-1234-gid-5678'), 4321, 5678);
    await lchown(join(c, 'owners/gid-only-5678'), 0, 0);
    await lchown(join(c, 'links/relative'), 0, 5678);
    assertDiffs(await compareTrees(src, c), [
      /^links\/relative: uid expected 1234, actual 0$/,
      /^owners\/gid-only-5678: gid expected 5678, actual 0$/,
      /^owners\/uid-1234-gid-5678: uid expected 1234, actual 4321$/,
    ]);
  });

  test('an mtime 1 µs off (within a tolerance it passes)', async () => {
    const c = await copy();
    const st = await lstat(join(c, 'times/far-future-2100'), { bigint: true });
    await lutimes(join(c, 'times/far-future-2100'), utime(st.atimeNs), utime(st.mtimeNs + 1000n));
    assertDiffs(await compareTrees(src, c), [/^times\/far-future-2100: mtime expected 4102444800\.5000/]);
    assert.deepEqual(await compareTrees(src, c, { mtimeToleranceNs: 2000 }), []);
  });

  test('a directory mtime, unless dirMtime is ignored', async () => {
    const c = await copy();
    const st = await lstat(join(c, 'data/a'), { bigint: true });
    await lutimes(join(c, 'data/a'), utime(st.atimeNs), utime(st.mtimeNs - 1_000_000_000n));
    assertDiffs(await compareTrees(src, c), [/^data\/a: mtime expected/]);
    assert.deepEqual(await compareTrees(src, c, { ignore: ['dirMtime'] }), []);
  });

  test('a retargeted symlink', async () => {
    const c = await copy();
    const l = join(c, 'links/relative');
    const st = await lstat(l);
    await keepTimes([join(c, 'links'), l], async () => {
      await unlink(l);
      await symlink('other.txt', l);
      await lchown(l, st.uid, st.gid);
    });
    assertDiffs(await compareTrees(src, c), [
      /^links\/relative: symlink target expected "target\.txt", actual "other\.txt"$/,
    ]);
  });

  test('a hard link broken by copying', async () => {
    const c = await copy();
    const dir = join(c, 'hardlinks/c/deeper');
    await keepTimes([dir], async () => {
      await run('cp', ['-p', join(dir, 'third.bin'), join(dir, 'tmp')]);
      await rename(join(dir, 'tmp'), join(dir, 'third.bin'));
    });
    assertDiffs(await compareTrees(src, c), [
      /^hard links differ: expected one inode for \[hardlinks\/a\/original\.bin, hardlinks\/b\/second-name\.bin, hardlinks\/c\/deeper\/third\.bin\], actual \[hardlinks\/a\/original\.bin, hardlinks\/b\/second-name\.bin\] \+ \[hardlinks\/c\/deeper\/third\.bin\]$/,
    ]);
  });

  test('two files linked that were separate', async () => {
    const c = await copy();
    const [x, y] = [join(c, 'empty/empty-file'), join(c, 'empty/only-empty-file/zero')];
    await keepTimes([join(c, 'empty/only-empty-file')], async () => {
      await unlink(y);
      await link(x, y);
    });
    assertDiffs(await compareTrees(src, c), [
      /^empty\/only-empty-file\/zero: mtime expected/,
      /^hard links differ: actual links \[empty\/empty-file, empty\/only-empty-file\/zero\], which are separate/,
    ]);
  });

  test('a sparse file made dense (a denser restore fails, a sparser one passes)', async () => {
    const c = await copy();
    const f = join(c, 'sparse/sparse-64m.img');
    await keepTimes([f], async () => {
      const fh = await open(f, 'r+');
      await fh.write(Buffer.alloc(10 * MiB), 0, 10 * MiB, 0);
      await fh.close();
    });
    const dense = join(c, 'sparse/dense-zeros-1m.bin');
    await keepTimes([join(c, 'sparse')], async () => {
      await run('cp', ['-p', '--sparse=always', dense, `${dense}.tmp`]);
      await rename(`${dense}.tmp`, dense);
    });
    assert.equal((await lstat(dense)).blocks, 0);
    assertDiffs(await compareTrees(src, c), [
      /^sparse\/sparse-64m\.img: sparseness lost: 67108864-byte file/,
    ]);
  });

  test('a removed and a changed xattr', async (t) => {
    if (!info.xattrs) return t.skip('no xattr support here');
    const c = await copy();
    const f = b(c, 'xattrs/file-with-xattrs');
    const rest = (await readXattrs(f))!.filter((x) => x.name !== 'user.comment');
    assert.equal(await writeXattrs(f, rest, { removeOthers: true }), true);
    await writeXattrs(b(c, 'xattrs/dir-with-xattrs'), [{ name: 'user.dir', value: Buffer.from('x') }]);
    assertDiffs(await compareTrees(src, c), [
      /^xattrs\/dir-with-xattrs: xattr user\.dir expected 14B:6f6e2061.*, actual 1B:78$/,
      /^xattrs\/file-with-xattrs: xattr user\.comment expected 24B:.*, actual missing$/,
    ]);
  });

  test('a deleted empty directory and an extra file', async () => {
    const c = await copy();
    await keepTimes([join(c, 'empty/nested')], () => rmdir(join(c, 'empty/nested/sibling')));
    await keepTimes([join(c, 'empty/empty-dir')], () => writeFile(join(c, 'empty/empty-dir/new'), ''));
    assertDiffs(await compareTrees(src, c), [
      /^empty\/nested\/sibling: only in expected \(dir\)$/,
      /^empty\/empty-dir\/new: only in actual \(file\)$/,
    ]);
  });

  test('a renamed non-UTF-8 file', async () => {
    const c = await copy();
    const [from, to] = [
      b(c, 'names', Buffer.from([0x66, 0xff, 0xfe])),
      b(c, 'names', Buffer.from([0x66, 0xff, 0xfd])),
    ];
    await keepTimes([join(c, 'names')], () => rename(from, to));
    assertDiffs(await compareTrees(src, c), [
      /^names\/f\\xff\\xfe: only in expected \(file\)$/,
      /^names\/f\\xff\\xfd: only in actual \(file\)$/,
    ]);
  });

  test('a FIFO replaced by a regular file', async () => {
    const c = await copy();
    const p = join(c, 'special/pipe');
    await keepTimes([join(c, 'special'), p], async () => {
      await unlink(p);
      await writeFile(p, '');
    });
    assertDiffs(await compareTrees(src, c), [/^special\/pipe: type expected fifo, actual file$/]);
  });
});

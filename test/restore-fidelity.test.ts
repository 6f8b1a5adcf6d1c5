// What the fixture cannot show: timestamps set by the kernel (arbitrary nanoseconds,
// not representable as a double), and device nodes, restored exactly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nativeFs } from '../src/repo/fsmeta/native.ts';
import { backup, restore } from '../src/repo/index.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, reopen } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';

const isRoot = process.getuid?.() === 0;

describe('restore fidelity beyond the fixture', () => {
  it('the native addon is built (npm ci compiles it)', () => {
    assert.ok(nativeFs, 'build/Release/offsite_native.node is missing: run `npm ci`');
  });

  it('restores kernel-set mtimes to the nanosecond', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    for (let i = 0; i < 50; i++) await writeFile(join(src, 'sub', `f${i}`), `file ${i}`);
    const odd = (await lstat(join(src, 'sub', 'f0'), { bigint: true })).mtimeNs % 1000n;
    t.diagnostic(`a kernel mtime ends in ${odd} ns`);
    const { path } = await makeRepo(dir);
    const saved = await backup(await reopen(path), { paths: [src] });
    const target = join(dir, 'out');
    const result = await restore(await reopen(path), { id: saved.id, snapshot: saved.snapshot }, { target });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
  });

  it('restores over an earlier restore, replacing what is there', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'a'), 'the snapshot version');
    const { path } = await makeRepo(dir);
    const saved = await backup(await reopen(path), { paths: [src] });
    const target = join(dir, 'out');
    await restore(await reopen(path), { id: saved.id, snapshot: saved.snapshot }, { target });
    await writeFile(join(target, src, 'sub', 'a'), 'changed after the restore, and longer than before');
    const again = await restore(await reopen(path), { id: saved.id, snapshot: saved.snapshot }, { target });
    assert.deepEqual(again.errors, []);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
  });

  it('restores FIFOs and device nodes, including raw-byte names', {
    skip: !isRoot && 'device nodes need root',
  }, async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(src);
    const rawName = Buffer.concat([Buffer.from(`${src}/fifo-`), Buffer.from([0xff, 0xfe])]);
    nativeFs!.mknod(rawName, 0o010644, 0, 0);
    execFileSync('mknod', ['-m', '640', join(src, 'null-like'), 'c', '1', '3']);
    execFileSync('mknod', ['-m', '600', join(src, 'block-like'), 'b', '7', '200']);
    const { path } = await makeRepo(dir);
    const saved = await backup(await reopen(path), { paths: [src] });
    assert.deepEqual(saved.errors, []);
    const target = join(dir, 'out');
    const result = await restore(await reopen(path), { id: saved.id, snapshot: saved.snapshot }, { target });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
    for (const name of ['null-like', 'block-like']) {
      const before = await lstat(join(src, name));
      const after = await lstat(join(target, src, name));
      assert.equal(after.rdev, before.rdev, `${name} keeps its device number`);
      assert.equal(after.mode, before.mode);
    }
    const fifo = await lstat(Buffer.concat([Buffer.from(target), rawName]));
    assert.ok(fifo.isFIFO());
  });
});

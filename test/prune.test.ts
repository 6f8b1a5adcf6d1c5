// Two-phase garbage collection on a real repository: what no snapshot needs is condemned
// by one prune and deleted by a later one, never while a backup that may rely on it runs;
// partly used packs are repacked; nothing any snapshot needs is ever lost.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backup, checkRepository, type Repository, restore, type SnapshotRef } from '../src/repo/index.ts';
import { prune } from '../src/repo/prune.ts';
import { startSession } from '../src/repo/sessions.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, storedBytes } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';

const NOW = { graceMs: 0, skewMs: 0 };

async function files(dir: string, name: string, count: number, size: number, seed: number): Promise<string> {
  const root = join(dir, name);
  await mkdir(root, { recursive: true });
  for (let i = 0; i < count; i++) {
    const { randomBytes } = await import('node:crypto');
    await writeFile(join(root, `f${seed}-${i}`), randomBytes(size));
  }
  return root;
}

/** The repository checks clean reading every byte, and `snapshot` restores `source` exactly. */
async function assertIntact(dir: string, path: string, snapshot: SnapshotRef, source: string): Promise<void> {
  const check = await checkRepository(await reopen(path), { readData: true });
  assert.deepEqual(check.problems, []);
  const target = join(dir, 'out');
  const result = await restore(await reopen(path), snapshot, { target });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(await compareTrees(source, join(target, source)), []);
}

async function forget(repo: Repository, id: string): Promise<void> {
  await repo.store.delete(`snapshots/${id}`);
}

async function pruneTwice(path: string, options = {}) {
  const first = await prune(await reopen(path), { ...NOW, ...options });
  await sleep(5);
  const second = await prune(await reopen(path), { ...NOW, ...options });
  return { first, second };
}

describe('prune', () => {
  it('condemns data no snapshot needs, deletes it on the next run, keeps the rest restorable', async (t) => {
    const dir = await tempDir(t);
    const a = await files(dir, 'a', 4, 300_000, 1);
    const b = await files(dir, 'b', 4, 300_000, 2);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [a] });
    const second = await backup(await reopen(path), { paths: [b] });
    const before = await storedBytes(await reopen(path), 'data/');
    await forget(await reopen(path), first.id);

    const { first: condemnRun, second: deleteRun } = await pruneTwice(path);
    assert.ok(condemnRun.plan.condemn.length >= 1, 'the pack only the forgotten snapshot used is condemned');
    assert.equal(condemnRun.plan.remove.length, 0, 'nothing is deleted in the run that condemns it');
    assert.deepEqual(deleteRun.plan.remove.sort(), condemnRun.plan.condemn.sort());
    const after = await storedBytes(await reopen(path), 'data/');
    assert.ok(after < before - 1_000_000, `space was freed: ${before} -> ${after}`);

    await assertIntact(dir, path, second, b);
  });

  it('never deletes a condemned pack while a backup that started before the condemnation runs', async (t) => {
    const dir = await tempDir(t);
    const a = await files(dir, 'a', 2, 200_000, 3);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [a] });
    await forget(await reopen(path), first.id);
    const session = await startSession(await reopen(path), 'backup');
    await sleep(5);
    const { first: condemnRun, second: blockedRun } = await pruneTwice(path);
    assert.ok(condemnRun.plan.condemn.length > 0);
    assert.equal(blockedRun.plan.remove.length, 0, 'the running backup protects the packs');
    assert.deepEqual(blockedRun.plan.blocked.sort(), condemnRun.plan.condemn.sort());
    await session.end();
    const freed = await prune(await reopen(path), NOW);
    assert.deepEqual(
      freed.plan.remove.sort(),
      condemnRun.plan.condemn.sort(),
      'deleted once the backup ended',
    );
  });

  it('revives a condemned pack that a snapshot needs again', async (t) => {
    const dir = await tempDir(t);
    const a = await files(dir, 'a', 2, 200_000, 4);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [a] });
    const repo = await reopen(path);
    const saved = await repo.store.get(`snapshots/${first.id}`);
    await forget(repo, first.id);
    const condemnRun = await prune(await reopen(path), NOW);
    assert.ok(condemnRun.plan.condemn.length > 0);
    // As a backup that was running during that prune would: its snapshot lands later.
    await repo.store.put(`snapshots/${first.id}`, saved);
    await sleep(5);
    const reviveRun = await prune(await reopen(path), NOW);
    assert.equal(reviveRun.plan.remove.length, 0);
    assert.deepEqual(reviveRun.plan.revive.sort(), condemnRun.plan.condemn.sort());
    const check = await checkRepository(await reopen(path), { readData: true });
    assert.deepEqual(check.problems, []);
    const again = await prune(await reopen(path), NOW);
    assert.deepEqual(again.plan.condemn, [], 'the revived pack is no longer condemned');
  });

  it('repacks partly used packs, then deletes the old ones', async (t) => {
    const dir = await tempDir(t);
    const src = await files(dir, 'src', 6, 200_000, 5);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [src] });
    // Half the files change: the first pack keeps only half of its data in use.
    for (let i = 0; i < 3; i++) await writeFile(join(src, `f5-${i}`), `changed ${i}`);
    const second = await backup(await reopen(path), { paths: [src] });
    await forget(await reopen(path), first.id);
    const { first: repackRun, second: deleteRun } = await pruneTwice(path, { maxUnused: 0.05 });
    assert.ok(repackRun.plan.repack.length >= 1, JSON.stringify(repackRun.plan));
    assert.ok(repackRun.repackedBlobs >= 3);
    assert.ok(deleteRun.plan.remove.length >= repackRun.plan.repack.length);
    await assertIntact(dir, path, second, src);
  });

  it('an index file left superseded by an interrupted prune never comes back to life', async (t) => {
    const dir = await tempDir(t);
    const a = await files(dir, 'a', 2, 200_000, 7);
    const b = await files(dir, 'b', 2, 200_000, 8);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [a] });
    await backup(await reopen(path), { paths: [b] });
    await forget(await reopen(path), first.id);
    await prune(await reopen(path), NOW);
    // As a prune killed between writing its new index and deleting the old ones leaves it:
    const repo = await reopen(path);
    const old = await repo.readIndexFiles();
    await repo.saveIndex(
      old.flatMap((f) => f.file.packs),
      old.map((f) => Buffer.from(f.id, 'hex')),
    );
    await sleep(5);
    const deleting = await prune(await reopen(path), NOW);
    assert.ok(deleting.plan.remove.length > 0);
    const check = await checkRepository(await reopen(path), { readData: true });
    assert.deepEqual(check.problems, [], 'no index names a deleted pack');
  });

  it('a dry run changes nothing', async (t) => {
    const dir = await tempDir(t);
    const a = await files(dir, 'a', 2, 100_000, 6);
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [a] });
    await forget(await reopen(path), first.id);
    const bytes = await storedBytes(await reopen(path));
    const dry = await prune(await reopen(path), { ...NOW, dryRun: true });
    assert.ok(dry.plan.condemn.length > 0);
    assert.equal(await storedBytes(await reopen(path)), bytes);
  });
});

// Backup → restore of a tree with every kind of thing a server holds, compared attribute
// by attribute; then the incremental properties: unchanged data is neither read nor
// stored again, and a 1 % change costs about 1 %.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backup, checkRepository, findParent, type Repository, restore } from '../src/repo/index.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, storedBytes } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree, mutateTree } from './helpers/tree-fixture.ts';

const MiB = 1024 * 1024;

describe('backup and restore round trip', () => {
  it('restores a realistic tree identically, then backs up incrementally', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    const fixture = await makeTree(src, { smallFiles: 2000, largeFileBytes: 200 * MiB, seed: 1 });
    const { path } = await makeRepo(dir);

    const repo = await reopen(path);
    const first = await backup(repo, { paths: [src] });
    assert.deepEqual(first.errors, []);
    assert.equal(first.snapshot.stats.filesNew, fixture.fileCount, 'every file name, hard links included');
    const afterFirst = await storedBytes(repo);
    t.diagnostic(
      `first backup: ${(first.snapshot.stats.bytesProcessed / MiB).toFixed(1)} MiB processed, ${(afterFirst / MiB).toFixed(1)} MiB stored`,
    );

    const target = join(dir, 'restore1');
    const restored = await restore(
      await reopen(path),
      { id: first.id, snapshot: first.snapshot },
      { target },
    );
    assert.deepEqual(restored.errors, []);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);

    // Unchanged: nothing read, no data or tree stored, only the snapshot file.
    const again = await reopen(path);
    const parent = await findParent(again, first.snapshot.hostname, [src]);
    assert.equal(parent?.id, first.id);
    const second = await backup(again, { paths: [src], parent });
    const s2 = second.snapshot.stats;
    assert.equal(s2.bytesRead, 0, 'no file contents were read');
    assert.equal(s2.filesNew + s2.filesChanged, 0);
    assert.equal(s2.bytesAddedStored, 0, 'no data stored');
    // Only the trees of the ancestors (/tmp, the test folder) change: creating the
    // restore folder beside src changed their mtimes. src's own tree is the same blob.
    assert.ok(s2.treeBytesAddedStored < 2048, `tree bytes added: ${s2.treeBytesAddedStored}`);
    assert.deepEqual(
      await subtreeOf(again, second.snapshot.tree, src),
      await subtreeOf(again, first.snapshot.tree, src),
    );
    const growth = (await storedBytes(again)) - afterFirst;
    assert.ok(growth < 8192, `an unchanged backup added ${growth} bytes`);

    // 1 % changed: about that much is added.
    const mutation = await mutateTree(src, 0.01, 7);
    const third = await backup(await reopen(path), {
      paths: [src],
      parent: { id: second.id, snapshot: second.snapshot },
    });
    const s3 = third.snapshot.stats;
    t.diagnostic(
      `1% change: ${mutation.bytesChanged} bytes changed in ${mutation.filesChanged} files; added ${s3.bytesAddedRaw} raw, ${s3.bytesAddedStored} stored, read ${s3.bytesRead}`,
    );
    assert.equal(s3.filesChanged, mutation.filesChanged);
    assert.ok(s3.bytesAddedRaw >= mutation.bytesChanged * 0.5, 'the changed bytes were stored');
    // Content-defined chunks of ~1 MiB: each changed region costs at most its chunks.
    assert.ok(
      s3.bytesAddedRaw <= mutation.bytesChanged + 3 * 8 * MiB,
      `added ${s3.bytesAddedRaw} for ${mutation.bytesChanged} changed`,
    );
    const changedSizes = (await Promise.all(mutation.changedPaths.map((p) => stat(p)))).reduce(
      (n, st) => n + st.size,
      0,
    );
    assert.equal(s3.bytesRead, changedSizes, 'exactly the changed files were read');

    const target3 = join(dir, 'restore3');
    const r3 = await restore(
      await reopen(path),
      { id: third.id, snapshot: third.snapshot },
      { target: target3 },
    );
    assert.deepEqual(r3.errors, []);
    assert.deepEqual(await compareTrees(src, join(target3, src)), []);

    const check = await checkRepository(await reopen(path), { readData: true });
    assert.deepEqual(check.problems, []);
    assert.equal(check.snapshots, 3);
  });
});

/** The tree id of the directory at an absolute path inside a snapshot. */
async function subtreeOf(repo: Repository, root: string, path: string): Promise<string> {
  let id: Buffer = Buffer.from(root, 'hex');
  for (const part of path.split('/').filter(Boolean)) {
    const node = (await repo.loadTree(id)).find((n) => n.name.toString() === part);
    assert.ok(node?.subtree, `${path} is in the snapshot`);
    id = node.subtree;
  }
  return id.toString('hex');
}

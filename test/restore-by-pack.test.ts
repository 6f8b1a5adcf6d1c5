// Restore writes files pack by pack, out of file order. With tiny chunks and tiny packs a
// file's blobs are scattered over many packs, a blob is shared within and across files,
// more files are half-written at once than descriptors are kept open, and a damaged pack
// fails exactly the files that use it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open as openFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backup, type Repository, restore } from '../src/repo/index.ts';
import { writeContents } from '../src/repo/restore/contents.ts';
import { tempDir } from './helpers/cli.ts';
import { flipByte, objects } from './helpers/damage.ts';
import { makeRepo, reopen } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';

const SMALL = { chunker: { min: 512, avg: 1024, max: 4096 }, packSize: 4096 };

/** 200 files of 2–40 KiB, many sharing pieces; one file repeats a piece twice; a hard link. */
async function scatteredTree(src: string): Promise<void> {
  const shared = randomBytes(6000);
  await mkdir(join(src, 'd'), { recursive: true });
  for (let i = 0; i < 200; i++) {
    const own = randomBytes(2000 + ((i * 7919) % 38000));
    const data = i % 3 === 0 ? Buffer.concat([shared, own, shared]) : own;
    await writeFile(join(src, 'd', `f${i}`), data);
  }
  await writeFile(join(src, 'empty'), '');
  await writeFile(join(src, 'zeros'), Buffer.alloc(50_000));
  await link(join(src, 'd', 'f3'), join(src, 'hardlink'));
}

describe('restore by pack', () => {
  it('restores files scattered over many packs exactly', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await scatteredTree(src);
    const { path, repo } = await makeRepo(dir, SMALL);
    const saved = await backup(repo, { paths: [src] });
    const packs = await objects(path, 'data');
    assert.ok(packs.length > 300, `blobs spread over ${packs.length} packs`);

    const target = join(dir, 'out');
    const result = await restore(await reopen(path), saved, { target });
    assert.deepEqual(result.errors, []);
    assert.equal(result.files, 203);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
  });

  it('keeps at most the allowed descriptors open, reopening half-written files', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await scatteredTree(src);
    const { path, repo } = await makeRepo(dir, SMALL);
    const saved = await backup(repo, { paths: [src] });
    const reader = await reopen(path);
    const nodes = await descend(
      reader,
      await reader.loadTree(Buffer.from(saved.snapshot.tree, 'hex')),
      `${src}/d`,
    );
    const out = join(dir, 'out');
    await mkdir(out);
    const targets = nodes.map((node) => ({ path: Buffer.from(join(out, node.name.toString())), node }));
    let open = 0;
    let mostOpen = 0;
    const failures: unknown[] = [];
    await writeContents(
      reader,
      targets,
      {
        create: async (p) => {
          mostOpen = Math.max(mostOpen, ++open);
          const handle = await openFile(p, 'wx');
          const close = handle.close.bind(handle);
          handle.close = () => {
            open--;
            return close();
          };
          return handle;
        },
        finished: async () => {},
        failed: (_target, err) => failures.push(err),
        wrote: () => {},
      },
      { maxOpen: 2 },
    );
    assert.deepEqual(failures, []);
    for (const node of nodes) {
      const back = await readFile(join(out, node.name.toString()));
      assert.ok(back.equals(await readFile(join(src, 'd', node.name.toString()))), node.name.toString());
    }
    // Eviction runs on each open and spares files with a write in flight (at most 16 at
    // once, and as many finishing), so the bound is maxOpen + 2 × 16 + the new one;
    // without eviction this tree has ~150 files open at once.
    assert.ok(mostOpen <= 2 + 2 * 16 + 1, `at most ${mostOpen} created files open at once`);
  });

  it('an unexpected error (a bug, not a file problem) fails the whole restore, never silently', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'f'), randomBytes(3000));
    const { path, repo } = await makeRepo(dir, SMALL);
    const saved = await backup(repo, { paths: [src] });
    const reader = await reopen(path);
    const nodes = await descend(reader, await reader.loadTree(Buffer.from(saved.snapshot.tree, 'hex')), src);
    const targets = nodes.map((node) => ({ path: Buffer.from(join(dir, 'out-f')), node }));
    const bug = new TypeError('a bug in the caller');
    await assert.rejects(
      writeContents(reader, targets, {
        create: async () => {
          throw bug;
        },
        finished: async () => {},
        // As the restorer does: errors that are not a file's problem are rethrown.
        failed: (_target, err) => {
          throw err;
        },
        wrote: () => {},
      }),
      (err) => err === bug,
    );
  });

  it('a damaged pack fails only the files that use its blob, each named once', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 20; i++) await writeFile(join(src, `f${i}`), randomBytes(3000));
    const { path, repo } = await makeRepo(dir, SMALL);
    const saved = await backup(repo, { paths: [src] });
    const reader = await reopen(path);
    // A byte inside the first blob of f7 (its pack may hold other files' blobs too).
    const tree = await reader.loadTree(Buffer.from(saved.snapshot.tree, 'hex'));
    const srcTree = await descend(reader, tree, src);
    const f7 = srcTree.find((n) => n.name.toString() === 'f7')!;
    const loc = reader.locate(f7.content![0]!, 0);
    const pack = reader.packObject(loc.packIndex);
    await flipByte(join(path, pack), loc.offset + 10);

    const target = join(dir, 'out');
    const result = await restore(await reopen(path), saved, { target });
    assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
    assert.match(result.errors[0]!.path, /f7$/);
    assert.match(result.errors[0]!.message, new RegExp(pack.split('/').pop()!));
    for (let i = 0; i < 20; i++) {
      if (i === 7) continue;
      const back = await readFile(join(target, src, `f${i}`));
      assert.ok(back.equals(await readFile(join(src, `f${i}`))), `f${i}`);
    }
  });
});

async function descend(
  repo: Repository,
  nodes: Awaited<ReturnType<Repository['loadTree']>>,
  path: string,
): Promise<Awaited<ReturnType<Repository['loadTree']>>> {
  let current = nodes;
  for (const part of path.split('/').filter(Boolean)) {
    const dir = current.find((n) => n.name.toString() === part);
    assert.ok(dir?.subtree, `no folder ${part} in the snapshot`);
    current = await repo.loadTree(dir.subtree);
  }
  return current;
}

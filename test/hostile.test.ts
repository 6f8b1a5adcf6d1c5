// A repository is untrusted input too: a snapshot whose trees try to escape the restore
// target ("..", "/", NUL, duplicates that alias a symlink) is refused and nothing is
// written outside the target.
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BLOB_TREE } from '../src/repo/blob-index.ts';
import { restore, type Snapshot } from '../src/repo/index.ts';
import { Packer } from '../src/repo/packer.ts';
import type { Repository } from '../src/repo/repository.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, reopen } from './helpers/repo.ts';

const base = { mode: 0o644, uid: 0, gid: 0, size: 0, mtime: '0', ctime: '0', inode: '1', dev: '1', links: 1 };

/** Writes raw tree JSON (bypassing every encoder check) and a snapshot pointing at it. */
async function plant(
  repo: Repository,
  rootNodes: object[],
  subtrees: object[][] = [],
): Promise<{ id: string; snapshot: Snapshot }> {
  const packer = new Packer(repo);
  const subIds: string[] = [];
  for (const nodes of subtrees) {
    const data = Buffer.from(JSON.stringify({ nodes }));
    const id = repo.blobId(data);
    await packer.add(BLOB_TREE, id, data);
    subIds.push(id.toString('hex'));
  }
  const resolved = JSON.parse(
    JSON.stringify(rootNodes).replace(/"SUBTREE(\d)"/g, (_m, i) => `"${subIds[Number(i)]}"`),
  );
  const data = Buffer.from(JSON.stringify({ nodes: resolved }));
  const rootId = repo.blobId(data);
  await packer.add(BLOB_TREE, rootId, data);
  await packer.flush();
  const snapshot = {
    version: 1,
    time: new Date().toISOString(),
    tree: rootId.toString('hex'),
    paths: ['/x'],
    hostname: 'evil',
    username: 'evil',
    tags: [],
    program: 'evil',
    stats: {},
  } as unknown as Snapshot;
  const id = await repo.saveFile('snapshot', Buffer.from(JSON.stringify(snapshot)));
  return { id, snapshot };
}

const CASES: [string, object[], object[][]?][] = [
  ['a ".." entry', [{ ...base, name: '..', type: 'file', content: [] }]],
  ['a "." entry', [{ ...base, name: '.', type: 'dir', subtree: 'SUBTREE0' }], [[]]],
  ['a name with a slash', [{ ...base, name: '../../escaped', type: 'file', content: [] }]],
  ['an absolute name', [{ ...base, name: '/etc/evil', type: 'file', content: [] }]],
  ['a NUL in a name', [{ ...base, name: 'a\u0000b', type: 'file', content: [] }]],
  ['a base64 ".."', [{ ...base, name64: Buffer.from('..').toString('base64'), type: 'file', content: [] }]],
  ['an empty name', [{ ...base, name: '', type: 'file', content: [] }]],
  [
    'a symlink and a directory of the same name',
    [
      { ...base, name: 'a', type: 'dir', subtree: 'SUBTREE0' },
      { ...base, name: 'a', type: 'symlink', target: '/tmp' },
    ],
    [[{ ...base, name: 'owned', type: 'file', content: [] }]],
  ],
  [
    'a hostile name one level down',
    [{ ...base, name: 'd', type: 'dir', subtree: 'SUBTREE0' }],
    [[{ ...base, name: '..', type: 'file', content: [] }]],
  ],
];

describe('hostile snapshots are refused', () => {
  for (const [label, nodes, subtrees] of CASES) {
    it(`refuses ${label} and writes nothing outside the target`, async (t) => {
      const dir = await tempDir(t);
      const { path, repo } = await makeRepo(dir);
      const ref = await plant(repo, nodes, subtrees);
      const target = join(dir, 'target');
      await mkdir(target);
      const before = (await readdir(dir)).sort();
      let refused: unknown;
      let result: Awaited<ReturnType<typeof restore>> | undefined;
      try {
        result = await restore(await reopen(path), ref, { target });
      } catch (err) {
        refused = err;
      }
      const reported = refused ?? result?.errors[0]?.message;
      assert.ok(reported, 'the hostile tree was reported');
      const message = refused instanceof Error ? refused.message : String(reported);
      assert.match(message, /refusing an entry|duplicated or not sorted/);
      if (refused) assert.equal((refused as { code?: string }).code, 'CORRUPT_TREE');
      assert.deepEqual((await readdir(dir)).sort(), before, 'nothing appeared next to the target');
      const inside = await readdir(target, { recursive: true });
      assert.ok(
        !inside.some((p) => String(p).includes('owned') || String(p).includes('escaped')),
        inside.join(','),
      );
    });
  }
});

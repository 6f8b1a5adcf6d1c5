// forget runs beside backups: a snapshot listed and then removed before it is read is
// left out of the listing (and so of a backup's choice of parent), not an error.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backup, listSnapshots, Repository } from '../src/repo/index.ts';
import { type BlobStore, FileStore } from '../src/storage/index.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, TEST_PASSPHRASE } from './helpers/repo.ts';

/** Deletes the first snapshot right after it has been listed, as a concurrent forget would. */
function forgetDuringList(inner: BlobStore): BlobStore {
  return {
    location: inner.location,
    put: (name, data) => inner.put(name, data),
    get: (name, range) => inner.get(name, range),
    head: (name) => inner.head(name),
    delete: (name) => inner.delete(name),
    async *list(prefix) {
      const listed = [];
      for await (const object of inner.list(prefix)) listed.push(object);
      yield* listed;
      if (prefix === 'snapshots/' && listed[0]) await inner.delete(listed[0].name);
    },
  };
}

describe('snapshots forgotten while being listed', () => {
  it('are left out; the listing and a backup choosing its parent succeed', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a'), 'first');
    const { path, repo } = await makeRepo(dir);
    const first = await backup(repo, { paths: [src] });
    await writeFile(join(src, 'a'), 'second');
    const second = await backup(repo, { paths: [src] });

    const racing = await Repository.open(forgetDuringList(new FileStore(path)), TEST_PASSPHRASE);
    const listed = await listSnapshots(racing);
    assert.equal(listed.length, 1);
    const gone = [first.id, second.id].sort()[0];
    assert.notEqual(listed[0]!.id, gone);

    await writeFile(join(src, 'a'), 'third');
    await racing.loadIndex();
    const third = await backup(racing, { paths: [src] });
    assert.deepEqual(third.errors, []);
  });
});

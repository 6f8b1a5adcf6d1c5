// The engine beside a vault's garbage collection: packs a `gc-vault/` marker lists are
// absent to a backup (their blobs are stored again), pending deletion to `check`, and a
// damaged vault marker never stops either. Real files on a FileStore.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileStore } from '../storage/index.ts';
import { backup } from './backup/archiver.ts';
import { checkRepository } from './check.ts';
import { listCondemnedPacks, readCondemned } from './condemned.ts';
import { fastKdfParams } from './crypto/kdf.ts';
import { encodeVaultMarker } from './gc-markers.ts';
import { Repository } from './repository.ts';
import { restore } from './restore/restorer.ts';
import { snapshotPacks } from './snapshot-packs.ts';

const PASS = 'a unit test passphrase, long enough';

interface Fixture {
  dir: string;
  store: FileStore;
  src: string;
  contents: Map<string, Buffer>;
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-gc-vault-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'repo');
  await mkdir(path);
  const store = new FileStore(path);
  await Repository.init(store, PASS, { kdf: fastKdfParams(), config: { packSize: 256 * 1024 } });
  const src = join(dir, 'src');
  await mkdir(src);
  const contents = new Map<string, Buffer>();
  for (let i = 0; i < 4; i++) {
    const data = randomBytes(150_000);
    contents.set(`f${i}`, data);
    await writeFile(join(src, `f${i}`), data);
  }
  return { dir, store, src, contents };
}

async function open(store: FileStore): Promise<Repository> {
  const repo = await Repository.open(store, PASS);
  await repo.loadIndex();
  return repo;
}

async function packIds(store: FileStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of store.list('data/')) ids.push(o.name.slice(o.name.lastIndexOf('/') + 1));
  return ids.sort();
}

async function putVaultMarker(store: FileStore, packs: string[]): Promise<string> {
  const { name, body } = encodeVaultMarker(new Date(), packs);
  await store.put(name, body);
  return name;
}

describe('vault markers (gc-vault/)', () => {
  it('a backup stores again the blobs of packs a vault marker condemns, and restores without them', async (t) => {
    const f = await fixture(t);
    const first = await backup(await open(f.store), { paths: [f.src] });
    const condemned = await packIds(f.store);
    assert.ok(condemned.length >= 2);
    await putVaultMarker(f.store, condemned);
    const repo = await open(f.store);
    assert.deepEqual([...(await listCondemnedPacks(repo))].sort(), condemned);

    const parent = { id: first.id, snapshot: first.snapshot };
    const second = await backup(repo, { paths: [f.src], parent });
    const stats = second.snapshot.stats;
    assert.equal(stats.filesUnmodified, 0, 'unchanged files are read again: their blobs count as absent');
    assert.ok(stats.bytesAddedRaw >= 600_000, `every data blob is stored again (${stats.bytesAddedRaw})`);
    const fresh = (await packIds(f.store)).filter((id) => !condemned.includes(id));
    assert.ok(fresh.length >= 2, 'new packs hold the data');
    const named = await snapshotPacks(repo, Buffer.from(second.snapshot.tree, 'hex'));
    assert.deepEqual(
      named.filter((id) => condemned.includes(id)),
      [],
      'the packs the new point needs are the new copies, not the condemned ones (the vault would refuse PACK_DELETED)',
    );

    // The vault deletes the condemned packs and the first snapshot: the second is intact.
    await f.store.delete(`snapshots/${first.id}`);
    for (const id of condemned) await f.store.delete(`data/${id.slice(0, 2)}/${id}`);
    const check = await checkRepository(await open(f.store), { readData: true });
    assert.deepEqual(check.problems, []);
    assert.deepEqual(
      check.notes.map((n) => n.kind),
      condemned.map(() => 'condemned-deleted'),
    );
    assert.match(check.notes[0]!.message, /vault's garbage collection/);
    const target = join(f.dir, 'out');
    const result = await restore(
      await open(f.store),
      { id: second.id, snapshot: second.snapshot },
      { target },
    );
    assert.deepEqual(result.errors, []);
    for (const [name, data] of f.contents) {
      assert.ok((await readFile(join(target, f.src, name))).equals(data), name);
    }
  });

  it('check reports packs a vault marker condemns as pending deletion, not damage', async (t) => {
    const f = await fixture(t);
    const first = await backup(await open(f.store), { paths: [f.src] });
    const packs = await packIds(f.store);
    await f.store.delete(`snapshots/${first.id}`);
    await putVaultMarker(f.store, packs);
    const check = await checkRepository(await open(f.store), { readData: true });
    assert.deepEqual(check.problems, []);
    assert.deepEqual(
      check.notes.map((n) => [n.kind, n.object]),
      packs.map((id) => ['pending-deletion', `data/${id.slice(0, 2)}/${id}`]),
    );
  });

  it('a damaged vault marker never stops a backup; check names it', async (t) => {
    const f = await fixture(t);
    await backup(await open(f.store), { paths: [f.src] });
    const packs = await packIds(f.store);
    const good = encodeVaultMarker(new Date(), packs);
    const renamed = `gc-vault/${'0'.repeat(64)}`;
    await f.store.put(renamed, good.body); // valid JSON, but not the object its name promises
    const junk = encodeVaultMarker(new Date(), []);
    await f.store.put(junk.name.replace(/.{8}$/, 'ffffffff'), Buffer.from('not json'));

    const repo = await open(f.store);
    const scan = await readCondemned(repo);
    assert.equal(scan.packs.size, 0, 'a damaged marker condemns nothing');
    assert.equal(scan.damaged.length, 2);
    const again = await backup(repo, { paths: [f.src] });
    assert.equal(again.snapshot.stats.bytesAddedRaw < 10_000, true, 'data is deduplicated as usual');
    const check = await checkRepository(await open(f.store));
    assert.deepEqual(check.problems.map((p) => p.kind).sort(), ['corrupt-marker', 'corrupt-marker']);
    assert.ok(check.problems.some((p) => p.object === renamed));
    await assert.rejects(listCondemnedPacks(repo), /gc-vault\//);
  });
});

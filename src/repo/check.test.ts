import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import { MemoryStore } from '../storage/index.ts';
import { BLOB_DATA } from './blob-index.ts';
import { checkRepository } from './check.ts';
import { packGroup, parseSubset, selectPacks } from './check-subset.ts';
import { listCondemnedPacks } from './condemned.ts';
import { fastKdfParams } from './crypto/kdf.ts';
import { decodeIndex } from './index-file.ts';
import { Packer } from './packer.ts';
import { Repository } from './repository.ts';

const PASS = 'a unit test passphrase, long enough';

describe('--read-data-subset', () => {
  it('parses percentages and groups', () => {
    assert.deepEqual(parseSubset('5%'), { kind: 'percent', percent: 5 });
    assert.deepEqual(parseSubset('0.5%'), { kind: 'percent', percent: 0.5 });
    assert.deepEqual(parseSubset('100%'), { kind: 'percent', percent: 100 });
    assert.deepEqual(parseSubset('1/10'), { kind: 'group', n: 1, m: 10 });
    assert.deepEqual(parseSubset('3/3'), { kind: 'group', n: 3, m: 3 });
  });

  it('refuses bad values with a message naming them', () => {
    for (const bad of ['0%', '101%', '-5%', '5', '%', '0/3', '4/3', '1/0', 'a/b', '1/2/3', '', '1 / 2']) {
      assert.throws(
        () => parseSubset(bad),
        (err: unknown) =>
          err instanceof BadInputError && err.code === 'BAD_SUBSET' && err.message.includes(`"${bad}"`),
        bad,
      );
    }
  });

  it('groups 1/m … m/m partition the packs; a percentage picks that share at random', () => {
    const ids = Array.from({ length: 200 }, () => randomBytes(32).toString('hex'));
    for (const m of [1, 2, 3, 7, 300]) {
      const seen: string[] = [];
      for (let n = 1; n <= m; n++) seen.push(...selectPacks(ids, { kind: 'group', n, m }));
      assert.deepEqual([...seen].sort(), [...ids].sort(), `m = ${m}`);
    }
    assert.equal(packGroup(`00000005${'0'.repeat(56)}`, 4), 2);
    assert.equal(selectPacks(ids, { kind: 'percent', percent: 5 }).length, 10);
    assert.equal(selectPacks(ids, { kind: 'percent', percent: 0.1 }).length, 1);
    assert.equal(new Set(selectPacks(ids, { kind: 'percent', percent: 50 })).size, 100);
    // random(n) = 0 always keeps the first ones: the choice comes from the injected source.
    assert.deepEqual(
      selectPacks(ids, { kind: 'percent', percent: 2 }, () => 0),
      ids.slice(0, 4),
    );
  });
});

async function repoWithPacks(
  count: number,
): Promise<{ repo: Repository; store: MemoryStore; packs: string[] }> {
  const store = new MemoryStore();
  const repo = await Repository.init(store, PASS, { kdf: fastKdfParams(), config: { packSize: 4096 } });
  const packer = new Packer(repo);
  for (let i = 0; i < count; i++) {
    const data = randomBytes(5000);
    await packer.add(BLOB_DATA, repo.blobId(data), data);
  }
  await packer.flush();
  const packs: string[] = [];
  for await (const o of store.list('data/')) packs.push(o.name.slice(o.name.lastIndexOf('/') + 1));
  assert.equal(packs.length, count);
  return { repo, store, packs: packs.sort() };
}

async function fresh(store: MemoryStore): Promise<Repository> {
  return Repository.open(store, PASS);
}

describe('check and garbage collection state', () => {
  it('ignores superseded index files; a condemned unindexed pack is a note, not a problem', async () => {
    const { repo, store, packs } = await repoWithPacks(3);
    const [indexId] = await repo.listFiles('index');
    const clean = await checkRepository(await fresh(store), { readData: true });
    assert.deepEqual(clean.problems, []);
    assert.deepEqual(clean.notes, []);
    assert.equal(clean.packsRead, 3);

    // A newer index supersedes the old one and leaves out the first pack, as prune does.
    const old = decodeIndex(await repo.loadFile('index', indexId!), 'index');
    const kept = old.packs.filter((p) => p.id.toString('hex') !== packs[0]);
    await repo.saveIndex(kept, [Buffer.from(indexId!, 'hex')]);
    const orphan = await checkRepository(await fresh(store));
    assert.deepEqual(orphan.problems, [], 'an unindexed pack is not damage');
    assert.deepEqual(
      orphan.notes.map((p) => [p.kind, p.object]),
      [['orphan-pack', `data/${packs[0]!.slice(0, 2)}/${packs[0]}`]],
    );

    // Once a marker condemns it, the same pack is pending deletion.
    const marker = { version: 1, time: new Date().toISOString(), packs: [packs[0]] };
    await repo.saveFile('gc' as never, Buffer.from(JSON.stringify(marker)));
    assert.deepEqual([...(await listCondemnedPacks(await fresh(store)))], [packs[0]]);
    const pending = await checkRepository(await fresh(store), { readData: true });
    assert.deepEqual(pending.problems, []);
    assert.deepEqual(
      pending.notes.map((n) => [n.kind, n.object]),
      [['pending-deletion', `data/${packs[0]!.slice(0, 2)}/${packs[0]}`]],
    );
    assert.equal(pending.packsRead, 2);
  });

  it('a damaged marker is a problem naming it', async () => {
    const { repo, store } = await repoWithPacks(1);
    const id = await repo.saveFile('gc' as never, Buffer.from('{"time": "never"}'));
    const result = await checkRepository(await fresh(store));
    assert.deepEqual(
      result.problems.map((p) => [p.kind, p.object]),
      [['corrupt-marker', `gc/${id}`]],
    );
    await assert.rejects(listCondemnedPacks(await fresh(store)), /gc\/.*not a valid condemned-pack marker/);
  });

  it('reads only the chosen subset and says how many packs it read', async () => {
    const { store, packs } = await repoWithPacks(6);
    let total = 0;
    for (const n of [1, 2, 3]) {
      const result = await checkRepository(await fresh(store), { readDataSubset: `${n}/3` });
      assert.deepEqual(result.problems, []);
      assert.equal(result.subset, `${n}/3`);
      assert.equal(result.packsRead, packs.filter((p) => packGroup(p, 3) === n).length);
      assert.equal(result.packsSelected, result.packsRead);
      total += result.packsRead;
    }
    assert.equal(total, 6);
    const half = await checkRepository(await fresh(store), { readDataSubset: '50%' });
    assert.equal(half.packsRead, 3);
    await assert.rejects(checkRepository(await fresh(store), { readDataSubset: '1/0' }), BadInputError);
  });
});

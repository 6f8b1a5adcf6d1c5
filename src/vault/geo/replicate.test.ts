import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { TransientError } from '../../errors/index.ts';
import { collect } from '../../storage/conformance.ts';
import { type BlobStore, MemoryStore } from '../../storage/index.ts';
import { type Catalog, SqliteCatalog, type VaultRow } from '../catalog/index.ts';
import { repoPrefix, vaultRecordPrefix, versionedName } from '../layout.ts';
import { replicateAllVaults, replicateVault, replicationLag } from './index.ts';

const T0 = Date.UTC(2025, 5, 1);

/** Records every put, in order, and can be made unreachable. */
class Watched extends MemoryStore {
  puts: string[] = [];
  down = false;
  override async put(name: string, data: Uint8Array): Promise<void> {
    this.puts.push(name);
    await super.put(name, data);
  }
  override async *list(prefix: string) {
    if (this.down) throw new TransientError('UNREACHABLE', 'connection refused');
    yield* super.list(prefix);
  }
}

interface Fixture {
  catalog: Catalog;
  vault: VaultRow;
  serverId: string;
  repo: string;
  primary: MemoryStore;
  secondary: Watched;
  clock: { now: () => number; at: number };
  run: () => ReturnType<typeof replicateVault>;
  /** Stores a pack in the primary and records it, as an upload does; returns its object name. */
  pack: (bytes?: Buffer) => Promise<string>;
}

async function fixture(): Promise<Fixture> {
  const catalog = SqliteCatalog.memory();
  const vault = await catalog.createVault({ name: 'geo', region: 'a', secondaryRegion: 'b', createdAt: T0 });
  const server = await catalog.registerServer({
    vaultId: vault.id,
    name: 'web1',
    certFingerprint: 'c'.repeat(64),
    certNotAfter: T0 + 1e10,
    via: 'credentials',
    registeredAt: T0,
  });
  const primary = new MemoryStore('memory:a');
  const secondary = new Watched('memory:b');
  const clock = {
    at: T0 + 1000,
    now() {
      return this.at++;
    },
  };
  const repo = repoPrefix(vault.id, server.id);
  const pack = async (bytes: Buffer = randomBytes(3000)) => {
    const id = createHash('sha256').update(bytes).digest('hex');
    const name = `${repo}data/${id.slice(0, 2)}/${id}`;
    await primary.put(name, bytes);
    await catalog.recordPack({ serverId: server.id, name: id, size: bytes.length, createdAt: clock.now() });
    return name;
  };
  const run = () => replicateVault(catalog, vault, { primary, secondary }, () => clock.now());
  return { catalog, vault, serverId: server.id, repo, primary, secondary, clock, run, pack };
}

async function names(store: BlobStore, prefix = ''): Promise<string[]> {
  return (await collect(store.list(prefix))).map((o) => o.name).sort();
}

describe('replicating a vault to its secondary region', () => {
  it('copies every object of the vault, none of another, and reports nothing pending', async () => {
    const f = await fixture();
    await f.primary.put(versionedName(vaultRecordPrefix(f.vault.id), T0), Buffer.from('{}'));
    await f.primary.put(`${f.repo}config`, Buffer.from('config'));
    await f.pack();
    await f.pack();
    await f.primary.put(`${f.repo}index/ab`, Buffer.from('index'));
    await f.primary.put('other-vault/vault/x.json', Buffer.from('not ours'));
    const { status, complete } = await f.run();
    assert.equal(complete, true);
    assert.deepEqual(await names(f.secondary), (await names(f.primary, f.vault.id)).sort());
    assert.equal(status.copiedObjects, 5);
    assert.equal(status.copiedBytes, 2 + 6 + 3000 * 2 + 5);
    assert.deepEqual([status.pendingObjects, status.pendingBytes, status.oldestPendingAt], [0, 0, null]);
    assert.equal(status.syncedAt, status.listedAt);
    assert.deepEqual(status.problems, []);
    for (const name of await names(f.primary, f.vault.id)) {
      assert.deepEqual(await f.secondary.get(name), await f.primary.get(name), name);
    }
    const again = await f.run();
    assert.equal(again.status.copiedObjects, 0, 'a second cycle finds nothing to copy');
  });

  it('copies packs before the indexes and snapshots that name them, and records last', async () => {
    const f = await fixture();
    await f.primary.put(`${f.repo}snapshots/s1`, Buffer.from('snapshot'));
    await f.primary.put(`${f.repo}index/i1`, Buffer.from('index'));
    await f.primary.put(`${f.repo.replace(/repo\/$/, '')}points/p1.json`, Buffer.from('{}'));
    await f.pack();
    await f.primary.put(`${f.repo}keys/k1`, Buffer.from('key'));
    await f.run();
    const order = f.secondary.puts.map((n) => n.slice(n.indexOf('/servers/') + 1).split('/')[2]);
    assert.deepEqual(order, ['repo', 'repo', 'repo', 'repo', 'points']);
    const inRepo = f.secondary.puts
      .filter((n) => n.includes('/repo/'))
      .map((n) => n.split('/repo/')[1]!.split('/')[0]);
    assert.deepEqual(inRepo, ['keys', 'data', 'index', 'snapshots']);
  });

  it('mirrors deletions: replaced records, session files, packs the vault collected', async () => {
    const f = await fixture();
    const records = vaultRecordPrefix(f.vault.id);
    await f.primary.put(versionedName(records, T0), Buffer.from('{"v":1}'));
    await f.primary.put(`${f.repo}config`, Buffer.from('config'));
    await f.primary.put(`${f.repo}sessions/s1`, Buffer.from('session'));
    const collected = await f.pack();
    await f.run();
    await f.primary.put(versionedName(records, T0 + 5), Buffer.from('{"v":2}'));
    await f.primary.delete(versionedName(records, T0));
    await f.primary.delete(`${f.repo}sessions/s1`);
    await f.primary.delete(collected);
    const id = collected.split('/').at(-1)!;
    const row = await f.catalog.findPack(f.serverId, id);
    await f.catalog.markPacksDeleted(f.serverId, [row!.seq], T0 + 6);
    const { status } = await f.run();
    assert.deepEqual(await names(f.secondary), await names(f.primary, f.vault.id));
    assert.equal(status.deletedObjects, 3);
    assert.equal(status.copiedObjects, 1);
  });

  it('keeps in the secondary a live pack the primary lost, and says so', async () => {
    const f = await fixture();
    await f.primary.put(`${f.repo}config`, Buffer.from('config'));
    const lost = await f.pack();
    await f.run();
    await f.primary.delete(lost);
    const { status } = await f.run();
    assert.notEqual(await f.secondary.head(lost), null);
    assert.equal(status.deletedObjects, 0);
    assert.match(status.problems.join('\n'), /missing from the primary but not deleted by the vault/);
  });

  it('keeps everything when a part of the primary is empty (an emptied or mistaken primary)', async () => {
    const f = await fixture();
    await f.primary.put(`${f.repo}sessions/s1`, Buffer.from('s'));
    await f.primary.put(`${f.repo}config`, Buffer.from('c'));
    await f.run();
    await f.primary.delete(`${f.repo}sessions/s1`);
    await f.primary.delete(`${f.repo}config`);
    const { status } = await f.run();
    assert.equal((await names(f.secondary)).length, 2);
    assert.match(status.problems.join('\n'), /the primary holds nothing under/);
  });

  it('refuses to copy a pack that does not hash to its name, and reports it pending since it was recorded', async () => {
    const f = await fixture();
    const good = await f.pack();
    const bytes = randomBytes(100);
    const id = createHash('sha256').update(bytes).digest('hex');
    const bad = `${f.repo}data/${id.slice(0, 2)}/${id}`;
    await f.primary.put(bad, randomBytes(100));
    await f.catalog.recordPack({ serverId: f.serverId, name: id, size: 100, createdAt: T0 + 7 });
    const { status, complete } = await f.run();
    assert.equal(complete, true);
    assert.notEqual(await f.secondary.head(good), null);
    assert.equal(await f.secondary.head(bad), null);
    assert.deepEqual([status.pendingObjects, status.pendingBytes, status.oldestPendingAt], [1, 100, T0 + 7]);
    assert.equal(status.syncedAt, null);
    assert.match(status.problems[0]!, /PACK_HASH_MISMATCH/);
  });

  it('replaces a broken copy of another size', async () => {
    const f = await fixture();
    await f.primary.put(`${f.repo}config`, Buffer.from('the whole config'));
    await f.secondary.put(`${f.repo}config`, Buffer.from('the wh'));
    const { status } = await f.run();
    assert.deepEqual(await f.secondary.get(`${f.repo}config`), Buffer.from('the whole config'));
    assert.equal(status.copiedObjects, 1);
  });

  it('keeps the last complete comparison when the secondary cannot be listed, and says why', async () => {
    const f = await fixture();
    await f.pack();
    const first = await f.run();
    f.secondary.down = true;
    await f.pack();
    const regionStore = (name: string) => (name === 'a' ? f.primary : f.secondary);
    await assert.rejects(
      replicateAllVaults(f.catalog, regionStore, () => f.clock.now()),
      { code: 'REPLICATION_INCOMPLETE' },
    );
    const kept = await f.catalog.findReplicationStatus(f.vault.id);
    assert.equal(kept!.listedAt, first.status.listedAt);
    assert.match(kept!.problems.join('\n'), /UNREACHABLE/);
    const lag = await replicationLag(f.catalog, f.vault);
    assert.equal(lag!.pendingObjects, 1, 'the pack recorded since the last comparison');
  });

  it('reports as lag the packs recorded since the last cycle listed, and none once copied', async () => {
    const f = await fixture();
    const never = await replicationLag(f.catalog, f.vault);
    assert.deepEqual([never!.checkedAt, never!.pendingObjects], [null, 0]);
    await f.pack(randomBytes(500));
    await f.pack(randomBytes(700));
    const before = await replicationLag(f.catalog, f.vault);
    assert.deepEqual([before!.pendingObjects, before!.pendingBytes], [2, 1200]);
    assert.equal(before!.oldestPendingAt, T0 + 1000);
    await f.run();
    const after = await replicationLag(f.catalog, f.vault);
    assert.deepEqual([after!.pendingObjects, after!.pendingBytes, after!.oldestPendingAt], [0, 0, null]);
    assert.deepEqual(after!.lastRun, { copiedObjects: 2, copiedBytes: 1200, deletedObjects: 0 });
    const moved = await f.catalog.updateVault(f.vault.id, { secondaryRegion: 'c' });
    assert.equal((await replicationLag(f.catalog, moved))!.checkedAt, null, 'a new secondary starts over');
    assert.equal(await replicationLag(f.catalog, { ...moved, secondaryRegion: null }), null);
  });
});

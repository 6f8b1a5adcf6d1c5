import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as bitmap from '../bitmap.ts';
import type { Catalog, PackRow } from '../types.ts';
import { type Context, DAY, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

/** Records packs named p0, p1, ... and returns them. */
export async function makePacks(c: Catalog, serverId: string, count: number, from = 0): Promise<PackRow[]> {
  const out: PackRow[] = [];
  for (let i = from; i < from + count; i++) {
    out.push(await c.recordPack({ serverId, name: `p${i}`, size: 1000 + i, createdAt: T0 + i }));
  }
  return out;
}

async function oneServer(c: Catalog) {
  const vault = await makeVault(c);
  return { vault, server: await makeServer(c, vault.id) };
}

export function packCases(ctx: Context): void {
  it('numbers packs 0, 1, 2, ... per server and finds them by name', async () => {
    const { vault, server } = await oneServer(ctx.catalog);
    const other = await makeServer(ctx.catalog, vault.id, 'other');
    const packs = await makePacks(ctx.catalog, server.id, 3);
    assert.deepEqual(
      packs.map((p) => p.seq),
      [0, 1, 2],
    );
    assert.deepEqual(packs[1], {
      serverId: server.id,
      seq: 1,
      name: 'p1',
      size: 1001,
      createdAt: T0 + 1,
      condemnedAt: null,
      deletedAt: null,
    });
    assert.equal(
      (await ctx.catalog.recordPack({ serverId: other.id, name: 'p0', size: 1, createdAt: T0 })).seq,
      0,
    );
    assert.deepEqual(await ctx.catalog.findPack(server.id, 'p2'), packs[2]);
    assert.equal(await ctx.catalog.findPack(server.id, 'nope'), undefined);
    assert.deepEqual(await ctx.catalog.listPacks(server.id), packs);
  });

  it('refuses a name already recorded for the server, without using up a number', async () => {
    const { server } = await oneServer(ctx.catalog);
    await makePacks(ctx.catalog, server.id, 2);
    const again = { serverId: server.id, name: 'p1', size: 5, createdAt: T0 };
    await rejectsWith(ctx.catalog.recordPack(again), 'conflict', 'PACK_EXISTS');
    assert.equal((await makePacks(ctx.catalog, server.id, 1, 2))[0]!.seq, 2);
    const orphan = { serverId: 'nope', name: 'x', size: 1, createdAt: T0 };
    await rejectsWith(ctx.catalog.recordPack(orphan), 'not-found', 'SERVER_NOT_FOUND');
    const negative = { serverId: server.id, name: 'neg', size: -1, createdAt: T0 };
    await rejectsWith(ctx.catalog.recordPack(negative), 'bad-input', 'BAD_FIELD');
  });

  it('condemns, rescues and deletes packs, counting the packs changed', async () => {
    const { server } = await oneServer(ctx.catalog);
    await makePacks(ctx.catalog, server.id, 4);
    assert.equal(await ctx.catalog.condemnPacks(server.id, [0, 1, 2, 2], T0 + DAY), 3);
    assert.equal(await ctx.catalog.condemnPacks(server.id, [1, 3], T0 + 2 * DAY), 1);
    assert.equal((await ctx.catalog.findPack(server.id, 'p1'))!.condemnedAt, T0 + DAY);
    assert.equal(await ctx.catalog.uncondemnPacks(server.id, [2, 3]), 2);
    assert.equal((await ctx.catalog.findPack(server.id, 'p2'))!.condemnedAt, null);
    assert.equal(await ctx.catalog.markPacksDeleted(server.id, [0, 1], T0 + 3 * DAY), 2);
    assert.equal(await ctx.catalog.markPacksDeleted(server.id, [0], T0 + 4 * DAY), 0);
    assert.equal(await ctx.catalog.condemnPacks(server.id, [0], T0 + 4 * DAY), 0);
    assert.equal(await ctx.catalog.uncondemnPacks(server.id, [0]), 0);
    const p0 = await ctx.catalog.findPack(server.id, 'p0');
    assert.deepEqual([p0!.condemnedAt, p0!.deletedAt], [T0 + DAY, T0 + 3 * DAY]);
    assert.deepEqual(
      (await ctx.catalog.listPacks(server.id)).map((p) => p.seq),
      [2, 3],
    );
    assert.deepEqual(
      (await ctx.catalog.listPacks(server.id, { includeDeleted: true })).map((p) => p.seq),
      [0, 1, 2, 3],
    );
    await rejectsWith(ctx.catalog.condemnPacks('nope', [0], T0), 'not-found', 'SERVER_NOT_FOUND');
  });

  it('records a deleted name again under a new number and prefers it', async () => {
    const { server } = await oneServer(ctx.catalog);
    await makePacks(ctx.catalog, server.id, 2);
    await ctx.catalog.markPacksDeleted(server.id, [0], T0 + DAY);
    const again = await ctx.catalog.recordPack({
      serverId: server.id,
      name: 'p0',
      size: 7,
      createdAt: T0 + DAY,
    });
    assert.equal(again.seq, 2);
    assert.deepEqual(await ctx.catalog.findPack(server.id, 'p0'), again);
  });

  it('sums the bytes of a vault’s packs that are not deleted, over all its servers', async () => {
    const { vault, server } = await oneServer(ctx.catalog);
    const empty = await makeVault(ctx.catalog, 'empty');
    assert.equal(await ctx.catalog.vaultPackBytes(vault.id), 0);
    const second = await makeServer(ctx.catalog, vault.id, 'web-2');
    await makePacks(ctx.catalog, server.id, 3);
    await makePacks(ctx.catalog, second.id, 1, 10);
    await makePacks(ctx.catalog, (await makeServer(ctx.catalog, empty.id)).id, 1);
    await ctx.catalog.condemnPacks(server.id, [1], T0 + DAY);
    await ctx.catalog.markPacksDeleted(server.id, [0], T0 + DAY);
    assert.equal(await ctx.catalog.vaultPackBytes(vault.id), 1001 + 1002 + 1010);
    assert.equal(await ctx.catalog.vaultPackBytes(empty.id), 1000);
    await rejectsWith(ctx.catalog.vaultPackBytes('nope'), 'not-found', 'VAULT_NOT_FOUND');
  });
}

export function pointCases(ctx: Context): void {
  const commit = (c: Catalog, serverId: string, name: string, packSeqs: number[], time = T0) =>
    c.commitPoint({
      serverId,
      snapshotName: name,
      time,
      stats: { files: 3 },
      packSeqs,
      committedAt: time + 1,
    });

  it('commits a point with its packs as one bitmap', async () => {
    const { vault, server } = await oneServer(ctx.catalog);
    await makePacks(ctx.catalog, server.id, 10);
    const point = await commit(ctx.catalog, server.id, 'snap-1', [7, 0, 3, 3, 1, 2]);
    assert.deepEqual(point, {
      id: point.id,
      serverId: server.id,
      vaultId: vault.id,
      snapshotName: 'snap-1',
      time: T0,
      stats: { files: 3 },
      packCount: 5,
      committedAt: T0 + 1,
      softDeletedAt: null,
      deletedAt: null,
    });
    assert.deepEqual(await ctx.catalog.getPoint(point.id), point);
    assert.deepEqual(bitmap.decode(await ctx.catalog.getPointPacks(point.id)), [0, 1, 2, 3, 7]);
    await rejectsWith(ctx.catalog.getPoint('nope'), 'not-found', 'POINT_NOT_FOUND');
    await rejectsWith(ctx.catalog.getPointPacks('nope'), 'not-found', 'POINT_NOT_FOUND');
  });

  it('refuses a snapshot committed twice and references to missing or deleted packs', async () => {
    const { server } = await oneServer(ctx.catalog);
    await makePacks(ctx.catalog, server.id, 3);
    await commit(ctx.catalog, server.id, 'snap-1', [0]);
    await rejectsWith(commit(ctx.catalog, server.id, 'snap-1', [1]), 'conflict', 'POINT_EXISTS');
    await rejectsWith(commit(ctx.catalog, server.id, 'snap-2', [0, 3]), 'not-found', 'PACK_NOT_FOUND');
    await ctx.catalog.markPacksDeleted(server.id, [1], T0);
    await rejectsWith(commit(ctx.catalog, server.id, 'snap-2', [0, 1]), 'conflict', 'PACK_DELETED');
    await rejectsWith(commit(ctx.catalog, server.id, 'snap-2', [-1]), 'bad-input', 'BAD_BITMAP_MEMBER');
    await rejectsWith(commit(ctx.catalog, 'nope', 'snap-2', []), 'not-found', 'SERVER_NOT_FOUND');
    assert.equal((await ctx.catalog.listPoints(server.id, { state: 'all' })).length, 1);
  });

  it('lists points newest first, per server and per vault, by state', async () => {
    const { vault, server } = await oneServer(ctx.catalog);
    const db = await makeServer(ctx.catalog, vault.id, 'db');
    const a = await commit(ctx.catalog, server.id, 'a', [], T0);
    const b = await commit(ctx.catalog, server.id, 'b', [], T0 + DAY);
    const c = await commit(ctx.catalog, db.id, 'c', [], T0 + 2 * DAY);
    const d = await commit(ctx.catalog, server.id, 'd', [], T0 + 3 * DAY);
    const names = async (list: Promise<{ snapshotName: string }[]>) =>
      (await list).map((p) => p.snapshotName);
    assert.deepEqual(await names(ctx.catalog.listPoints(server.id)), ['d', 'b', 'a']);
    assert.deepEqual(await names(ctx.catalog.listVaultPoints(vault.id)), ['d', 'c', 'b', 'a']);
    await ctx.catalog.softDeletePoint(b.id, T0 + 5 * DAY);
    await ctx.catalog.softDeletePoint(d.id, T0 + 5 * DAY);
    await ctx.catalog.markPointDeleted(d.id, T0 + 6 * DAY);
    await ctx.catalog.markPointDeleted(c.id, T0 + 6 * DAY);
    assert.deepEqual(await names(ctx.catalog.listPoints(server.id)), ['a']);
    assert.deepEqual(await names(ctx.catalog.listPoints(server.id, { state: 'soft-deleted' })), ['b']);
    assert.deepEqual(await names(ctx.catalog.listVaultPoints(vault.id, { state: 'deleted' })), ['d', 'c']);
    assert.deepEqual(await names(ctx.catalog.listVaultPoints(vault.id, { state: 'all' })), [
      'd',
      'c',
      'b',
      'a',
    ]);
    assert.equal(a.softDeletedAt, null);
    await rejectsWith(ctx.catalog.listPoints('nope'), 'not-found', 'SERVER_NOT_FOUND');
    await rejectsWith(ctx.catalog.listVaultPoints('nope'), 'not-found', 'VAULT_NOT_FOUND');
  });

  it('soft-deletes and undeletes a point; a deleted point stays deleted', async () => {
    const { server } = await oneServer(ctx.catalog);
    const point = await commit(ctx.catalog, server.id, 'a', []);
    const soft = await ctx.catalog.softDeletePoint(point.id, T0 + DAY);
    assert.equal(soft.softDeletedAt, T0 + DAY);
    assert.equal((await ctx.catalog.softDeletePoint(point.id, T0 + 2 * DAY)).softDeletedAt, T0 + DAY);
    assert.deepEqual(await ctx.catalog.undeletePoint(point.id), point);
    await ctx.catalog.softDeletePoint(point.id, T0 + 3 * DAY);
    const deleted = await ctx.catalog.markPointDeleted(point.id, T0 + 4 * DAY);
    assert.deepEqual([deleted.softDeletedAt, deleted.deletedAt], [T0 + 3 * DAY, T0 + 4 * DAY]);
    assert.deepEqual(await ctx.catalog.markPointDeleted(point.id, T0 + 5 * DAY), deleted);
    await rejectsWith(ctx.catalog.undeletePoint(point.id), 'conflict', 'POINT_DELETED');
    await rejectsWith(ctx.catalog.softDeletePoint(point.id, T0), 'conflict', 'POINT_DELETED');
  });

  it('unites the packs of every point not deleted, for garbage collection', async () => {
    const { vault, server } = await oneServer(ctx.catalog);
    const other = await makeServer(ctx.catalog, vault.id, 'other');
    await makePacks(ctx.catalog, server.id, 8);
    await makePacks(ctx.catalog, other.id, 8);
    assert.deepEqual(bitmap.decode(await ctx.catalog.retainedPackBitmap(server.id)), []);
    await commit(ctx.catalog, server.id, 'a', [0, 1]);
    const b = await commit(ctx.catalog, server.id, 'b', [1, 2, 5]);
    const c = await commit(ctx.catalog, server.id, 'c', [6, 7]);
    await commit(ctx.catalog, other.id, 'x', [3, 4]);
    await ctx.catalog.softDeletePoint(b.id, T0 + DAY);
    await ctx.catalog.softDeletePoint(c.id, T0 + DAY);
    await ctx.catalog.markPointDeleted(c.id, T0 + 2 * DAY);
    const retained = await ctx.catalog.retainedPackBitmap(server.id);
    assert.deepEqual(bitmap.decode(retained), [0, 1, 2, 5]);
    assert.equal(bitmap.has(retained, 6), false);
    assert.deepEqual(bitmap.decode(await ctx.catalog.retainedPackBitmap(other.id)), [3, 4]);
    await rejectsWith(ctx.catalog.retainedPackBitmap('nope'), 'not-found', 'SERVER_NOT_FOUND');
  });
}

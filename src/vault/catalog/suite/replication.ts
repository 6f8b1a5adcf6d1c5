import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ReplicationStatusRow } from '../types.ts';
import { type Context, DAY, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

function status(vaultId: string, changes: Partial<ReplicationStatusRow> = {}): ReplicationStatusRow {
  return {
    vaultId,
    secondaryRegion: 'eu-west',
    listedAt: T0,
    finishedAt: T0 + 1000,
    copiedObjects: 12,
    copiedBytes: 40_000_000,
    deletedObjects: 1,
    pendingObjects: 2,
    pendingBytes: 300,
    oldestPendingAt: T0 - DAY,
    syncedAt: null,
    problems: ['copy of a: timed out', 'copy of b: timed out'],
    ...changes,
  };
}

export function replicationCases(ctx: Context): void {
  it('keeps one replication status per vault, the newest saved', async () => {
    const vault = await makeVault(ctx.catalog);
    assert.equal(await ctx.catalog.findReplicationStatus(vault.id), undefined);
    const first = await ctx.catalog.saveReplicationStatus(status(vault.id));
    assert.deepEqual(first, status(vault.id));
    const second = status(vault.id, {
      listedAt: T0 + DAY,
      finishedAt: T0 + DAY + 5,
      pendingObjects: 0,
      pendingBytes: 0,
      oldestPendingAt: null,
      syncedAt: T0 + DAY,
      problems: [],
    });
    await ctx.catalog.saveReplicationStatus(second);
    assert.deepEqual(await ctx.catalog.findReplicationStatus(vault.id), second);
  });

  it('refuses a status of an unknown vault or with bad fields, and stores nothing', async () => {
    const vault = await makeVault(ctx.catalog);
    await rejectsWith(ctx.catalog.saveReplicationStatus(status('nope')), 'not-found', 'VAULT_NOT_FOUND');
    const bad: Partial<ReplicationStatusRow>[] = [
      { secondaryRegion: '' },
      { pendingBytes: -1 },
      { listedAt: 1.5 },
      { problems: [3] as unknown as string[] },
    ];
    for (const changes of bad) {
      await rejectsWith(
        ctx.catalog.saveReplicationStatus(status(vault.id, changes)),
        'bad-input',
        'BAD_FIELD',
      );
    }
    assert.equal(await ctx.catalog.findReplicationStatus(vault.id), undefined);
  });

  it('tallies the packs of a vault recorded since a time, deleted ones left out', async () => {
    const vault = await makeVault(ctx.catalog);
    const [a, b] = [
      await makeServer(ctx.catalog, vault.id, 'a'),
      await makeServer(ctx.catalog, vault.id, 'b'),
    ];
    const other = await makeServer(ctx.catalog, (await makeVault(ctx.catalog, 'other')).id);
    const record = (serverId: string, name: string, size: number, createdAt: number) =>
      ctx.catalog.recordPack({ serverId, name, size, createdAt });
    await record(a.id, 'old', 1, T0);
    await record(a.id, 'new1', 10, T0 + 5);
    const gone = await record(b.id, 'gone', 100, T0 + 6);
    await record(b.id, 'new2', 1000, T0 + 7);
    await record(other.id, 'elsewhere', 10_000, T0 + 8);
    await ctx.catalog.markPacksDeleted(b.id, [gone.seq], T0 + 9);
    assert.deepEqual(await ctx.catalog.packsRecordedSince(vault.id, T0 + 5), {
      count: 2,
      bytes: 1010,
      oldestAt: T0 + 5,
    });
    assert.deepEqual(await ctx.catalog.packsRecordedSince(vault.id, T0 + 100), {
      count: 0,
      bytes: 0,
      oldestAt: null,
    });
    await rejectsWith(ctx.catalog.packsRecordedSince('nope', T0), 'not-found', 'VAULT_NOT_FOUND');
  });
}

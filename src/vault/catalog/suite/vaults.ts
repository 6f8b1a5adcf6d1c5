import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { JsonObject } from '../types.ts';
import { type Context, DAY, makeVault, rejectsWith, T0, UUID } from './context.ts';

export function vaultCases(ctx: Context): void {
  it('creates a vault with defaults and finds it by id and by name', async () => {
    const vault = await makeVault(ctx.catalog);
    assert.match(vault.id, UUID);
    assert.deepEqual(vault, {
      id: vault.id,
      name: 'main',
      region: 'local',
      quotaBytes: null,
      softDeleteDays: 14,
      immutable: false,
      policy: null,
      createdAt: T0,
      deletedAt: null,
      secondaryRegion: null,
    });
    assert.deepEqual(await ctx.catalog.getVault(vault.id), vault);
    assert.deepEqual(await ctx.catalog.getVaultByName('main'), vault);
  });

  it('stores every field given at creation, the policy as JSON', async () => {
    const policy = { daily: 7, weekly: 4, schedule: { at: '02:00', days: ['mon', 'thu'] }, note: null };
    const vault = await ctx.catalog.createVault({
      name: 'locked',
      region: 'eu-west',
      quotaBytes: 2 ** 40,
      softDeleteDays: 30,
      immutable: true,
      policy,
      createdAt: T0,
    });
    assert.equal(vault.quotaBytes, 2 ** 40);
    assert.equal(vault.softDeleteDays, 30);
    assert.equal(vault.immutable, true);
    assert.deepEqual((await ctx.catalog.getVault(vault.id)).policy, policy);
  });

  it('refuses a second vault with the same name, even once the first is deleted', async () => {
    const first = await makeVault(ctx.catalog);
    await rejectsWith(makeVault(ctx.catalog), 'conflict', 'VAULT_EXISTS');
    await ctx.catalog.deleteVault(first.id, T0 + 1);
    await rejectsWith(makeVault(ctx.catalog), 'conflict', 'VAULT_EXISTS');
  });

  it('keeps the ids rebuild-catalog gives for vaults, servers and points, and refuses malformed ones', async () => {
    const id = '0b5e2c1a-7d3f-4e2a-9c1b-2f3e4d5c6b7a';
    const vault = await ctx.catalog.createVault({ id, name: 'restored', region: 'local', createdAt: T0 });
    assert.equal(vault.id, id);
    const serverId = '1c6f3d2b-8e4a-4f3b-8d2c-3a4f5e6d7c8b';
    const server = await ctx.catalog.registerServer({
      id: serverId,
      vaultId: id,
      name: 'web1',
      certFingerprint: 'a'.repeat(64),
      certNotAfter: T0 + DAY,
      via: 'credentials',
      registeredAt: T0,
    });
    assert.equal(server.id, serverId);
    const pointId = '2d7a4e3c-9f5b-4a4c-9e3d-4b5a6f7e8d9c';
    const point = await ctx.catalog.commitPoint({
      id: pointId,
      serverId,
      snapshotName: 'f'.repeat(64),
      time: T0,
      stats: {},
      packSeqs: [],
      committedAt: T0,
    });
    assert.equal(point.id, pointId);
    await rejectsWith(
      ctx.catalog.createVault({ id: 'not-a-uuid', name: 'x1', region: 'local', createdAt: T0 }),
      'bad-input',
      'BAD_FIELD',
    );
  });

  it('reports unknown vaults as VAULT_NOT_FOUND', async () => {
    await rejectsWith(ctx.catalog.getVault('no-such-id'), 'not-found', 'VAULT_NOT_FOUND');
    await rejectsWith(ctx.catalog.getVaultByName('nope'), 'not-found', 'VAULT_NOT_FOUND');
    await rejectsWith(ctx.catalog.updateVault('no-such-id', {}), 'not-found', 'VAULT_NOT_FOUND');
    await rejectsWith(ctx.catalog.deleteVault('no-such-id', T0), 'not-found', 'VAULT_NOT_FOUND');
  });

  it('lists vaults by name, soft-deleted ones only when asked', async () => {
    const b = await makeVault(ctx.catalog, 'b');
    await makeVault(ctx.catalog, 'a');
    await makeVault(ctx.catalog, 'c');
    await ctx.catalog.deleteVault(b.id, T0 + DAY);
    assert.deepEqual(
      (await ctx.catalog.listVaults()).map((v) => v.name),
      ['a', 'c'],
    );
    assert.deepEqual(
      (await ctx.catalog.listVaults({ includeDeleted: true })).map((v) => v.name),
      ['a', 'b', 'c'],
    );
  });

  it('updates only the fields given, null clearing quota and policy', async () => {
    const vault = await ctx.catalog.createVault({
      name: 'v',
      region: 'r',
      quotaBytes: 1000,
      policy: { daily: 7 },
      createdAt: T0,
    });
    const days = await ctx.catalog.updateVault(vault.id, { softDeleteDays: 28 });
    assert.deepEqual(days, { ...vault, softDeleteDays: 28 });
    const locked = await ctx.catalog.updateVault(vault.id, { immutable: true, policy: { daily: 30 } });
    assert.deepEqual(locked, { ...vault, softDeleteDays: 28, immutable: true, policy: { daily: 30 } });
    const cleared = await ctx.catalog.updateVault(vault.id, { quotaBytes: null, policy: null });
    assert.equal(cleared.quotaBytes, null);
    assert.equal(cleared.policy, null);
    assert.equal(cleared.immutable, true);
    assert.deepEqual(await ctx.catalog.getVault(vault.id), cleared);
  });

  it("keeps a secondary region unlike the vault's own, changes it and clears it", async () => {
    const vault = await ctx.catalog.createVault({
      name: 'geo',
      region: 'eu-north',
      secondaryRegion: 'eu-west',
      createdAt: T0,
    });
    assert.equal(vault.secondaryRegion, 'eu-west');
    await rejectsWith(
      ctx.catalog.createVault({ name: 'same', region: 'r', secondaryRegion: 'r', createdAt: T0 }),
      'bad-input',
      'BAD_FIELD',
    );
    await rejectsWith(
      ctx.catalog.updateVault(vault.id, { secondaryRegion: 'eu-north' }),
      'bad-input',
      'BAD_FIELD',
    );
    const moved = await ctx.catalog.updateVault(vault.id, { secondaryRegion: 'us-east' });
    assert.deepEqual(moved, { ...vault, secondaryRegion: 'us-east' });
    assert.equal((await ctx.catalog.updateVault(vault.id, { quotaBytes: 5 })).secondaryRegion, 'us-east');
    const cleared = await ctx.catalog.updateVault(vault.id, { secondaryRegion: null });
    assert.equal(cleared.secondaryRegion, null);
    assert.deepEqual(await ctx.catalog.getVault(vault.id), cleared);
  });

  it('soft-deletes a vault once, keeping the first time, and refuses changes to it', async () => {
    const vault = await makeVault(ctx.catalog);
    const deleted = await ctx.catalog.deleteVault(vault.id, T0 + DAY);
    assert.equal(deleted.deletedAt, T0 + DAY);
    assert.equal((await ctx.catalog.deleteVault(vault.id, T0 + 2 * DAY)).deletedAt, T0 + DAY);
    assert.equal((await ctx.catalog.getVault(vault.id)).deletedAt, T0 + DAY);
    await rejectsWith(ctx.catalog.updateVault(vault.id, { quotaBytes: 5 }), 'conflict', 'VAULT_DELETED');
  });

  it('refuses bad fields with BAD_FIELD and stores nothing', async () => {
    const base = { name: 'v', region: 'r', createdAt: T0 };
    const bad = [
      { ...base, name: '' },
      { ...base, name: 'a\0b' },
      { ...base, region: '' },
      { ...base, quotaBytes: 0 },
      { ...base, quotaBytes: -5 },
      { ...base, softDeleteDays: -1 },
      { ...base, softDeleteDays: 1.5 },
      { ...base, createdAt: Number.NaN },
      { ...base, policy: [1, 2] as unknown as JsonObject },
    ];
    for (const input of bad) await rejectsWith(ctx.catalog.createVault(input), 'bad-input', 'BAD_FIELD');
    assert.deepEqual(await ctx.catalog.listVaults({ includeDeleted: true }), []);
    const vault = await makeVault(ctx.catalog);
    await rejectsWith(ctx.catalog.updateVault(vault.id, { softDeleteDays: -3 }), 'bad-input', 'BAD_FIELD');
    assert.deepEqual(await ctx.catalog.getVault(vault.id), vault);
  });
}

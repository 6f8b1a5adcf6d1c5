import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NewToken, Role, UsageRow } from '../types.ts';
import { type Context, DAY, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

export function userCases(ctx: Context): void {
  it('creates users and finds, lists and updates them', async () => {
    const bob = await ctx.catalog.createUser({
      name: 'bob',
      passwordHash: 'hash-b',
      role: 'reader',
      createdAt: T0,
    });
    const ann = await ctx.catalog.createUser({
      name: 'ann',
      passwordHash: 'hash-a',
      role: 'owner',
      createdAt: T0,
    });
    assert.deepEqual(bob, { id: bob.id, name: 'bob', passwordHash: 'hash-b', role: 'reader', createdAt: T0 });
    assert.deepEqual(await ctx.catalog.getUser(bob.id), bob);
    assert.deepEqual(await ctx.catalog.findUserByName('ann'), ann);
    assert.equal(await ctx.catalog.findUserByName('eve'), undefined);
    assert.deepEqual(await ctx.catalog.listUsers(), [ann, bob]);
    const promoted = await ctx.catalog.updateUser(bob.id, { role: 'operator' });
    assert.deepEqual(promoted, { ...bob, role: 'operator' });
    const rehashed = await ctx.catalog.updateUser(bob.id, { passwordHash: 'hash-b2' });
    assert.deepEqual(rehashed, { ...promoted, passwordHash: 'hash-b2' });
  });

  it('refuses duplicate names, unknown roles and unknown ids', async () => {
    await ctx.catalog.createUser({ name: 'bob', passwordHash: 'h', role: 'reader', createdAt: T0 });
    const again = { name: 'bob', passwordHash: 'h2', role: 'owner' as const, createdAt: T0 };
    await rejectsWith(ctx.catalog.createUser(again), 'conflict', 'USER_EXISTS');
    const badRole = { name: 'eve', passwordHash: 'h', role: 'god' as Role, createdAt: T0 };
    await rejectsWith(ctx.catalog.createUser(badRole), 'bad-input', 'BAD_FIELD');
    await rejectsWith(ctx.catalog.getUser('nope'), 'not-found', 'USER_NOT_FOUND');
    await rejectsWith(ctx.catalog.updateUser('nope', { role: 'owner' }), 'not-found', 'USER_NOT_FOUND');
    assert.equal((await ctx.catalog.listUsers()).length, 1);
  });
}

export function tokenCases(ctx: Context): void {
  const token = (tokenHash: string, extra: Partial<NewToken> = {}): NewToken => ({
    tokenHash,
    name: `token ${tokenHash}`,
    role: 'contributor',
    vaultId: null,
    createdAt: T0,
    expiresAt: null,
    ...extra,
  });

  it('finds a token by hash only while it is neither revoked nor expired', async () => {
    const vault = await makeVault(ctx.catalog);
    const forever = await ctx.catalog.createToken(token('t1'));
    const scoped = await ctx.catalog.createToken(token('t2', { vaultId: vault.id, expiresAt: T0 + DAY }));
    assert.deepEqual(scoped, {
      id: scoped.id,
      tokenHash: 't2',
      name: 'token t2',
      role: 'contributor',
      vaultId: vault.id,
      createdAt: T0,
      expiresAt: T0 + DAY,
      revokedAt: null,
      userId: null,
    });
    assert.deepEqual(await ctx.catalog.findToken('t1', T0 + 1000 * DAY), forever);
    assert.deepEqual(await ctx.catalog.findToken('t2', T0 + DAY - 1), scoped);
    assert.equal(await ctx.catalog.findToken('t2', T0 + DAY), undefined);
    assert.equal(await ctx.catalog.findToken('unknown', T0), undefined);
    const revoked = await ctx.catalog.revokeToken(forever.id, T0 + 5);
    assert.equal(revoked.revokedAt, T0 + 5);
    assert.equal((await ctx.catalog.revokeToken(forever.id, T0 + 6)).revokedAt, T0 + 5);
    assert.equal(await ctx.catalog.findToken('t1', T0 + 6), undefined);
  });

  it('lists every token, or those of one vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const a = await ctx.catalog.createToken(token('a'));
    const b = await ctx.catalog.createToken(token('b', { vaultId: vault.id, createdAt: T0 + 1 }));
    await ctx.catalog.revokeToken(a.id, T0 + 2);
    assert.deepEqual(
      (await ctx.catalog.listTokens()).map((t) => t.id),
      [a.id, b.id],
    );
    assert.deepEqual(await ctx.catalog.listTokens({ vaultId: vault.id }), [b]);
  });

  it('ties tokens to their user and revokes all of a user’s live tokens at once', async () => {
    const ann = await ctx.catalog.createUser({
      name: 'ann',
      passwordHash: 'h',
      role: 'owner',
      createdAt: T0,
    });
    const bob = await ctx.catalog.createUser({
      name: 'bob',
      passwordHash: 'h',
      role: 'reader',
      createdAt: T0,
    });
    const session = await ctx.catalog.createToken(token('s1', { userId: ann.id, expiresAt: T0 + DAY }));
    const made = await ctx.catalog.createToken(token('s2', { userId: ann.id }));
    const earlier = await ctx.catalog.createToken(token('s3', { userId: ann.id }));
    await ctx.catalog.revokeToken(earlier.id, T0 + 1);
    const expired = await ctx.catalog.createToken(token('s7', { userId: ann.id, expiresAt: T0 + 1 }));
    const bobs = await ctx.catalog.createToken(token('s4', { userId: bob.id }));
    const plain = await ctx.catalog.createToken(token('s5'));
    assert.equal(session.userId, ann.id);
    assert.equal(plain.userId, null);
    assert.equal(await ctx.catalog.revokeUserTokens(ann.id, T0 + 2), 2);
    assert.equal(await ctx.catalog.findToken('s1', T0 + 3), undefined);
    assert.equal(await ctx.catalog.findToken('s2', T0 + 3), undefined);
    assert.deepEqual(await ctx.catalog.findToken('s4', T0 + 3), bobs);
    assert.deepEqual(await ctx.catalog.findToken('s5', T0 + 3), plain);
    const listed = await ctx.catalog.listTokens();
    assert.equal(listed.find((t) => t.id === made.id)!.revokedAt, T0 + 2);
    assert.equal(listed.find((t) => t.id === earlier.id)!.revokedAt, T0 + 1);
    assert.equal(
      listed.find((t) => t.id === expired.id)!.revokedAt,
      null,
      'an expired token is left as it is',
    );
    await rejectsWith(ctx.catalog.revokeUserTokens('nope', T0), 'not-found', 'USER_NOT_FOUND');
    await rejectsWith(
      ctx.catalog.createToken(token('s6', { userId: 'nope' })),
      'not-found',
      'USER_NOT_FOUND',
    );
  });

  it('refuses duplicate hashes, bad expiry, unknown vaults and unknown ids', async () => {
    await ctx.catalog.createToken(token('a'));
    await rejectsWith(ctx.catalog.createToken(token('a')), 'conflict', 'TOKEN_EXISTS');
    await rejectsWith(ctx.catalog.createToken(token('b', { expiresAt: T0 })), 'bad-input', 'BAD_FIELD');
    await rejectsWith(
      ctx.catalog.createToken(token('c', { vaultId: 'nope' })),
      'not-found',
      'VAULT_NOT_FOUND',
    );
    await rejectsWith(ctx.catalog.revokeToken('nope', T0), 'not-found', 'TOKEN_NOT_FOUND');
  });
}

export function usageCases(ctx: Context): void {
  const row = (vaultId: string, serverId: string | null, day: string, bytes: number): UsageRow => ({
    vaultId,
    serverId,
    day,
    protectedBytes: bytes,
    storedBytes: Math.round(bytes / 2),
    breakdown: { compression: 1.5, dedupSavings: bytes / 4 },
  });

  it('keeps one row per vault, server and day, replacing it on upsert', async () => {
    const vault = await makeVault(ctx.catalog);
    const server = await makeServer(ctx.catalog, vault.id);
    assert.deepEqual(
      await ctx.catalog.recordUsage(row(vault.id, null, '2025-01-02', 100)),
      row(vault.id, null, '2025-01-02', 100),
    );
    await ctx.catalog.recordUsage(row(vault.id, server.id, '2025-01-02', 40));
    await ctx.catalog.recordUsage(row(vault.id, null, '2025-01-01', 80));
    await ctx.catalog.recordUsage(row(vault.id, null, '2025-01-03', 120));
    const replaced = await ctx.catalog.recordUsage(row(vault.id, null, '2025-01-02', 200));
    assert.deepEqual(replaced, row(vault.id, null, '2025-01-02', 200));
    const list = await ctx.catalog.listUsage(vault.id, '2025-01-02', '2025-01-03');
    assert.deepEqual(list, [
      row(vault.id, null, '2025-01-02', 200),
      row(vault.id, server.id, '2025-01-02', 40),
      row(vault.id, null, '2025-01-03', 120),
    ]);
    const totals = await ctx.catalog.listUsage(vault.id, '2025-01-01', '2025-12-31', { serverId: null });
    assert.deepEqual(
      totals.map((u) => u.day),
      ['2025-01-01', '2025-01-02', '2025-01-03'],
    );
    const perServer = await ctx.catalog.listUsage(vault.id, '2025-01-01', '2025-12-31', {
      serverId: server.id,
    });
    assert.deepEqual(perServer, [row(vault.id, server.id, '2025-01-02', 40)]);
  });

  it('refuses bad days, unknown vaults and servers of another vault', async () => {
    const vault = await makeVault(ctx.catalog);
    for (const day of ['2025-02-30', '2025-1-01', '20250101', '']) {
      await rejectsWith(ctx.catalog.recordUsage(row(vault.id, null, day, 1)), 'bad-input', 'BAD_FIELD');
    }
    await rejectsWith(ctx.catalog.listUsage(vault.id, 'yesterday', '2025-01-01'), 'bad-input', 'BAD_FIELD');
    await rejectsWith(
      ctx.catalog.recordUsage(row('nope', null, '2025-01-01', 1)),
      'not-found',
      'VAULT_NOT_FOUND',
    );
    const other = await makeVault(ctx.catalog, 'other');
    const stranger = await makeServer(ctx.catalog, other.id);
    const misfiled = row(vault.id, stranger.id, '2025-01-01', 1);
    await rejectsWith(ctx.catalog.recordUsage(misfiled), 'not-found', 'SERVER_NOT_FOUND');
    assert.deepEqual(await ctx.catalog.listUsage(vault.id, '2000-01-01', '2100-01-01'), []);
  });
}

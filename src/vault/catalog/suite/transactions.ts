import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isOffsiteError } from '../../../errors/index.ts';
import type { Catalog } from '../types.ts';
import { type Context, fingerprint, HOUR, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

export function transactionCases(ctx: Context): void {
  it('keeps everything a transaction did when it resolves', async () => {
    const result = await ctx.catalog.transaction(async (tx) => {
      const vault = await makeVault(tx);
      await makeServer(tx, vault.id);
      return vault.id;
    });
    assert.equal((await ctx.catalog.listServers(result)).length, 1);
  });

  it('undoes everything a transaction did when it throws, and passes the error on', async () => {
    const failure = new Error('boom');
    await assert.rejects(
      ctx.catalog.transaction(async (tx) => {
        const vault = await makeVault(tx);
        await makeServer(tx, vault.id);
        throw failure;
      }),
      (err) => err === failure,
    );
    assert.deepEqual(await ctx.catalog.listVaults({ includeDeleted: true }), []);
  });

  it('gives credentials back when the registration they paid for fails', async () => {
    const vault = await makeVault(ctx.catalog);
    const taken = await makeServer(ctx.catalog, vault.id, 'taken');
    await ctx.catalog.issueCredentials({
      vaultId: vault.id,
      secretHash: 'h',
      issuedAt: T0,
      expiresAt: T0 + HOUR,
    });
    const register = (certFingerprint: string) =>
      ctx.catalog.transaction(async (tx) => {
        const credentials = await tx.consumeCredentials('h', T0 + 1);
        return tx.registerServer({
          vaultId: credentials.vaultId,
          name: 'new',
          certFingerprint,
          certNotAfter: T0 + HOUR,
          via: 'credentials',
          registeredAt: T0 + 1,
        });
      });
    await rejectsWith(register(taken.certFingerprint), 'conflict', 'CERTIFICATE_IN_USE');
    const server = await register(fingerprint('new'));
    assert.equal(server.name, 'new');
    await rejectsWith(ctx.catalog.consumeCredentials('h', T0 + 2), 'auth', 'CREDENTIALS_USED');
  });

  it('rolls back a nested transaction alone when its error is caught', async () => {
    await ctx.catalog.transaction(async (tx) => {
      await makeVault(tx, 'outer');
      await assert.rejects(
        tx.transaction(async (inner) => {
          await makeVault(inner, 'inner');
          throw new Error('inner fails');
        }),
        /inner fails/,
      );
      await makeVault(tx, 'after');
    });
    const names = (await ctx.catalog.listVaults()).map((v) => v.name);
    assert.deepEqual(names, ['after', 'outer']);
  });

  it('never shows another caller half of a transaction', async () => {
    let reached!: () => void;
    const halfway = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let finish!: () => void;
    const proceed = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const tx = ctx.catalog.transaction(async (t) => {
      await makeVault(t, 'a');
      reached();
      await proceed;
      await makeVault(t, 'b');
    });
    await halfway;
    const seen = ctx.catalog.listVaults();
    finish();
    await tx;
    assert.ok([0, 2].includes((await seen).length), 'saw a half-done transaction');
    assert.equal((await ctx.catalog.listVaults()).length, 2);
  });

  it('refuses a transaction handle used after its function returned', async () => {
    let leaked: Catalog | undefined;
    await ctx.catalog.transaction(async (tx) => {
      leaked = tx;
    });
    await assert.rejects(makeVault(leaked!), (err) => isOffsiteError(err) && err.code === 'CATALOG_TX_ENDED');
    assert.deepEqual(await ctx.catalog.listVaults(), []);
  });
}

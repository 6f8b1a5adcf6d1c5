import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Context, rejectsWith, T0 } from './context.ts';

const MINUTE = 60_000;

export function leaseCases(ctx: Context): void {
  it('takes a free lease, renews it for its holder and refuses it to others until it runs out', async () => {
    const c = ctx.catalog;
    const first = await c.takeLease('task:gc', 'a', T0, T0 + MINUTE);
    assert.deepEqual(first, {
      name: 'task:gc',
      holder: 'a',
      acquiredAt: T0,
      expiresAt: T0 + MINUTE,
      generation: 1,
    });
    const renewed = await c.takeLease('task:gc', 'a', T0 + 10, T0 + 2 * MINUTE);
    assert.deepEqual(renewed, { ...first, expiresAt: T0 + 2 * MINUTE }, 'a renewal keeps acquiredAt');
    assert.deepEqual(await c.takeLease('task:gc', 'b', T0 + MINUTE, T0 + 3 * MINUTE), renewed);
    assert.deepEqual(await c.takeLease('task:gc', 'b', T0 + 2 * MINUTE - 1, T0 + 3 * MINUTE), renewed);
    const taken = await c.takeLease('task:gc', 'b', T0 + 2 * MINUTE, T0 + 3 * MINUTE);
    assert.deepEqual(taken, {
      name: 'task:gc',
      holder: 'b',
      acquiredAt: T0 + 2 * MINUTE,
      expiresAt: T0 + 3 * MINUTE,
      generation: 2,
    });
    // The old holder lost it: its renewal is refused and shows who has it now.
    assert.deepEqual(await c.takeLease('task:gc', 'a', T0 + 2 * MINUTE + 1, T0 + 4 * MINUTE), taken);
    assert.deepEqual(await c.listLeases(), [taken]);
  });

  it('counts a take after the holder’s own lease ran out as a new take', async () => {
    const c = ctx.catalog;
    await c.takeLease('task:usage', 'a', T0, T0 + MINUTE);
    const again = await c.takeLease('task:usage', 'a', T0 + MINUTE, T0 + 2 * MINUTE);
    assert.deepEqual(
      { acquiredAt: again.acquiredAt, generation: again.generation },
      { acquiredAt: T0 + MINUTE, generation: 2 },
    );
  });

  it('releases only for its holder, and a released lease is free at once', async () => {
    const c = ctx.catalog;
    await c.takeLease('points:s1', 'a', T0, T0 + MINUTE);
    assert.equal(await c.releaseLease('points:s1', 'b', T0 + 1), false);
    assert.equal((await c.takeLease('points:s1', 'b', T0 + 1, T0 + MINUTE)).holder, 'a');
    assert.equal(await c.releaseLease('points:s1', 'a', T0 + 2), true);
    assert.equal(await c.releaseLease('points:s1', 'a', T0 + 3), false, 'released already');
    assert.equal(await c.releaseLease('nobody-took-this', 'a', T0), false);
    const b = await c.takeLease('points:s1', 'b', T0 + 2, T0 + MINUTE);
    assert.deepEqual({ holder: b.holder, generation: b.generation }, { holder: 'b', generation: 2 });
  });

  it('gives a lease to exactly one of many takers at once, and keeps leases apart by name', async () => {
    const c = ctx.catalog;
    const takers = Array.from({ length: 8 }, (_, i) => `instance-${i}`);
    const seen = await Promise.all(takers.map((h) => c.takeLease('task:retention', h, T0, T0 + MINUTE)));
    const winner = seen[0]!.holder;
    assert.ok(takers.includes(winner));
    assert.ok(
      seen.every((lease) => lease.holder === winner && lease.generation === 1),
      'every taker sees the one winner',
    );
    const other = await c.takeLease('task:gc', 'instance-x', T0, T0 + MINUTE);
    assert.equal(other.holder, 'instance-x');
    assert.deepEqual(
      (await c.listLeases()).map((l) => [l.name, l.holder]),
      [
        ['task:gc', 'instance-x'],
        ['task:retention', winner],
      ],
    );
  });

  it('takes a lease inside a transaction, and not at all when the transaction fails', async () => {
    const c = ctx.catalog;
    await assert.rejects(
      c.transaction(async (tx) => {
        await tx.takeLease('task:gc', 'a', T0, T0 + MINUTE);
        throw new Error('undo');
      }),
      /undo/,
    );
    assert.deepEqual(await c.listLeases(), []);
    const lease = await c.transaction((tx) => tx.takeLease('task:gc', 'a', T0, T0 + MINUTE));
    assert.equal(lease.holder, 'a');
  });

  it('refuses a bad name, holder or expiry', async () => {
    const c = ctx.catalog;
    await rejectsWith(c.takeLease('', 'a', T0, T0 + MINUTE), 'bad-input', 'BAD_FIELD');
    await rejectsWith(c.takeLease('task:gc', '', T0, T0 + MINUTE), 'bad-input', 'BAD_FIELD');
    await rejectsWith(c.takeLease('task:gc', 'a', T0, T0), 'bad-input', 'BAD_FIELD');
    await rejectsWith(c.takeLease('task:gc', 'a', -1, T0), 'bad-input', 'BAD_FIELD');
    await rejectsWith(c.releaseLease('task:gc', 'a', 1.5), 'bad-input', 'BAD_FIELD');
    assert.deepEqual(await c.listLeases(), []);
  });
}

import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Catalog, NewAuditEntry } from '../types.ts';
import { type Context, DAY, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

const ZERO = '0'.repeat(64);

function entry(n: number, at = T0 + n): NewAuditEntry {
  return {
    at,
    actor: { kind: 'token', tokenName: 'admin', tokenId: `t${n}` },
    address: '127.0.0.1',
    action: 'vault.create',
    route: 'POST /v1/vaults',
    target: `vault:v${n}`,
    vault: n % 2 === 0 ? 'even' : 'odd',
    before: null,
    after: { name: `v${n}`, quota: n },
    outcome: 'succeeded',
    errorCode: null,
  };
}

/** The chain as a reader checks it: seqs in a row from the anchor, each naming the last. */
async function assertChained(c: Catalog): Promise<void> {
  const head = await c.auditHead();
  const entries = await c.listAudit({ limit: 10_000 });
  let seq = head.anchorSeq;
  let prev = head.anchorHash;
  for (const e of entries) {
    assert.equal(e.seq, seq, 'seqs follow each other');
    assert.equal(e.prevHash, prev, `entry ${e.seq} names its predecessor`);
    seq += 1;
    prev = e.hash;
  }
  assert.equal(head.seq, seq - 1, 'the head is the last entry');
  assert.equal(head.hash, prev);
}

export function auditCases(ctx: Context): void {
  it('appends entries chained from an all-zero start, and reads them back as given', async () => {
    const c = ctx.catalog;
    assert.deepEqual(await c.auditHead(), {
      seq: 0,
      hash: ZERO,
      anchorSeq: 1,
      anchorHash: ZERO,
      prunedAt: null,
    });
    const first = await c.appendAudit(entry(1));
    const second = await c.appendAudit({
      ...entry(2),
      outcome: 'refused',
      errorCode: 'FORBIDDEN',
      after: null,
    });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, ZERO);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.equal(second.prevHash, first.hash);
    const listed = await c.listAudit();
    assert.deepEqual(listed, [first, second]);
    assert.deepEqual(listed[0]!.after, { name: 'v1', quota: 1 });
    assert.equal(listed[1]!.errorCode, 'FORBIDDEN');
    await assertChained(c);
  });

  it('filters by vault, time and seq, oldest first', async () => {
    const c = ctx.catalog;
    for (let n = 1; n <= 6; n++) await c.appendAudit(entry(n));
    const seqs = (xs: { seq: number }[]) => xs.map((x) => x.seq);
    assert.deepEqual(seqs(await c.listAudit({ vault: 'even' })), [2, 4, 6]);
    assert.deepEqual(seqs(await c.listAudit({ since: T0 + 5 })), [5, 6]);
    assert.deepEqual(seqs(await c.listAudit({ afterSeq: 3, limit: 2 })), [4, 5]);
  });

  it('keeps one chain when many appends run at once', async () => {
    const c = ctx.catalog;
    const appended = await Promise.all(Array.from({ length: 12 }, (_, n) => c.appendAudit(entry(n + 1))));
    assert.deepEqual(
      appended.map((e) => e.seq).sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, n) => n + 1),
    );
    await assertChained(c);
  });

  it('prunes the oldest entries as a prefix and anchors the chain at the first kept one', async () => {
    const c = ctx.catalog;
    for (let n = 1; n <= 5; n++) await c.appendAudit(entry(n, T0 + n * DAY));
    const third = (await c.listAudit({ afterSeq: 2, limit: 1 }))[0]!;
    const pruned = await c.pruneAudit(T0 + 3 * DAY, T0 + 10 * DAY);
    assert.equal(pruned.removed, 2);
    assert.equal(pruned.head.anchorSeq, 3);
    assert.equal(pruned.head.anchorHash, third.prevHash);
    assert.equal(pruned.head.prunedAt, T0 + 10 * DAY);
    assert.deepEqual(
      (await c.listAudit()).map((e) => e.seq),
      [3, 4, 5],
    );
    assert.equal((await c.pruneAudit(T0 + 3 * DAY, T0 + 11 * DAY)).removed, 0, 'again: nothing more');
    await c.appendAudit(entry(6, T0 + 12 * DAY));
    await assertChained(c);
    const all = await c.pruneAudit(T0 + 100 * DAY, T0 + 100 * DAY);
    assert.equal(all.removed, 4);
    assert.deepEqual(await c.listAudit(), []);
    assert.equal(all.head.anchorSeq, 7, 'an empty log is anchored at the next seq');
    await c.appendAudit(entry(7, T0 + 101 * DAY));
    await assertChained(c);
  });

  it('refuses an entry with a bad outcome', async () => {
    await rejectsWith(
      ctx.catalog.appendAudit({ ...entry(1), outcome: 'maybe' as 'refused' }),
      'bad-input',
      'BAD_FIELD',
    );
    assert.equal((await ctx.catalog.auditHead()).seq, 0, 'a refused append takes no seq');
  });
}

export function probeCases(ctx: Context): void {
  it("keeps each server's last probe and lists a vault's", async () => {
    const c = ctx.catalog;
    const vault = await makeVault(c);
    const other = await makeVault(c, 'other');
    const web = await makeServer(c, vault.id, 'web-1');
    const db = await makeServer(c, vault.id, 'db-1');
    const elsewhere = await makeServer(c, other.id, 'x-1');
    await c.saveProbe({ serverId: web.id, probedAt: T0, results: { regions: [] } });
    const last = await c.saveProbe({
      serverId: web.id,
      probedAt: T0 + 1,
      results: { regions: [{ name: 'a' }] },
    });
    await c.saveProbe({ serverId: elsewhere.id, probedAt: T0, results: {} });
    assert.deepEqual(await c.listProbes(vault.id), [last]);
    await c.saveProbe({ serverId: db.id, probedAt: T0 + 2, results: {} });
    assert.equal((await c.listProbes(vault.id)).length, 2);
    await rejectsWith(
      c.saveProbe({ serverId: '00000000-0000-4000-8000-000000000000', probedAt: T0, results: {} }),
      'not-found',
      'SERVER_NOT_FOUND',
    );
  });
}

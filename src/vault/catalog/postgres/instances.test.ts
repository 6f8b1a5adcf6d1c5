import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { catalogDatabases } from '../../../../test/helpers/pg-catalog-server.ts';
import { isOffsiteError } from '../../../errors/index.ts';
import * as bitmap from '../bitmap.ts';
import { fingerprint, HOUR, makeServer, makeVault, T0 } from '../suite/context.ts';
import type { Catalog, ServerRow, VaultRow } from '../types.ts';
import { PostgresCatalog } from './index.ts';

// Two vault server instances sharing one catalog: each test races the same change through
// two PostgresCatalogs on one database, and checks the outcome is one a single writer
// could have produced. Where only a particular interleaving breaks a non-serializable
// backend, a barrier forces it: both transactions read before either writes.

const databases = catalogDatabases();

let a: PostgresCatalog;
let b: PostgresCatalog;
let vault: VaultRow;
let server: ServerRow;

before(async () => {
  const url = await databases.fresh();
  [a, b] = await Promise.all([PostgresCatalog.open(url), PostgresCatalog.open(url)]);
  vault = await makeVault(a);
  server = await makeServer(a, vault.id);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

/** Resolves once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    if (++arrived === parties) open();
    return gate;
  };
}

function codeOf(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return 'ok';
  return isOffsiteError(result.reason) ? result.reason.code : String(result.reason);
}

describe('two PostgresCatalog instances on one database', () => {
  it('let exactly one of them consume a credentials file', async () => {
    for (let round = 0; round < 10; round++) {
      const secretHash = `race-${round}`;
      await a.issueCredentials({ vaultId: vault.id, secretHash, issuedAt: T0 + round, expiresAt: T0 + HOUR });
      const results = await Promise.allSettled([
        a.consumeCredentials(secretHash, T0 + round),
        b.consumeCredentials(secretHash, T0 + round),
      ]);
      assert.deepEqual(results.map(codeOf).sort(), ['CREDENTIALS_USED', 'ok'], `round ${round}`);
    }
  });

  it('register one server when both register with one credentials file', async () => {
    const own = await makeVault(a, 'registration');
    await a.issueCredentials({ vaultId: own.id, secretHash: 'once', issuedAt: T0, expiresAt: T0 + HOUR });
    const register = (c: Catalog, name: string) =>
      c.transaction(async (tx) => {
        const credentials = await tx.consumeCredentials('once', T0 + 1);
        return tx.registerServer({
          vaultId: credentials.vaultId,
          name,
          certFingerprint: fingerprint(name),
          certNotAfter: T0 + HOUR,
          via: 'credentials',
          registeredAt: T0 + 1,
        });
      });
    const results = await Promise.allSettled([register(a, 'from-a'), register(b, 'from-b')]);
    assert.deepEqual(results.map(codeOf).sort(), ['CREDENTIALS_USED', 'ok']);
    assert.equal((await b.listServers(own.id)).length, 1);
  });

  it('keep only one credentials file valid when both issue one at once', async () => {
    for (let round = 0; round < 5; round++) {
      const own = await makeVault(a, `issue-${round}`);
      const issue = (c: Catalog, secretHash: string) =>
        c.issueCredentials({ vaultId: own.id, secretHash, issuedAt: T0, expiresAt: T0 + HOUR });
      await Promise.all([issue(a, `a-${round}`), issue(b, `b-${round}`)]);
      const results = await Promise.allSettled([
        a.consumeCredentials(`a-${round}`, T0 + 1),
        a.consumeCredentials(`b-${round}`, T0 + 1),
      ]);
      assert.deepEqual(results.map(codeOf).sort(), ['CREDENTIALS_SUPERSEDED', 'ok'], `round ${round}`);
    }
  });

  it('never hand out one pack number twice when both record packs at once', async () => {
    const own = await makeServer(a, vault.id, 'uploads');
    const record = (c: Catalog, name: string) =>
      c.recordPack({ serverId: own.id, name, size: 1, createdAt: T0 });
    const names = Array.from({ length: 12 }, (_, i) => `pack-${i}`);
    const rows = await Promise.all(names.flatMap((name) => [record(a, `${name}-a`), record(b, `${name}-b`)]));
    const seqs = rows.map((row) => row.seq).sort((x, y) => x - y);
    assert.deepEqual(
      seqs,
      Array.from({ length: 24 }, (_, i) => i),
    );
    assert.equal((await b.listPacks(own.id)).length, 24);
    const again = await Promise.allSettled([record(a, 'same'), record(b, 'same')]);
    assert.deepEqual(again.map(codeOf).sort(), ['PACK_EXISTS', 'ok']);
    assert.equal((await a.recordPack({ serverId: own.id, name: 'next', size: 1, createdAt: T0 })).seq, 25);
  });

  it('commit a snapshot once when both commit it at once', async () => {
    const [pack] = [await a.recordPack({ serverId: server.id, name: 'commit-pack', size: 1, createdAt: T0 })];
    const commit = (c: Catalog) =>
      c.commitPoint({
        serverId: server.id,
        snapshotName: 'twice',
        time: T0,
        stats: {},
        packSeqs: [pack!.seq],
        committedAt: T0,
      });
    const results = await Promise.allSettled([commit(a), commit(b)]);
    assert.deepEqual(results.map(codeOf).sort(), ['POINT_EXISTS', 'ok']);
  });

  it('never leave a point referring to a pack that garbage collection deleted meanwhile', async (t) => {
    const own = await makeServer(a, vault.id, 'gc-race');
    let reruns = 0;
    for (let round = 0; round < 4; round++) {
      const pack = await a.recordPack({ serverId: own.id, name: `gc-${round}`, size: 1, createdAt: T0 });
      await a.condemnPacks(own.id, [pack.seq], T0);
      const bothRead = barrier(2);
      let collectRuns = 0;
      let commitRuns = 0;
      // As src/vault/gc/collect.ts: delete what no point keeps, checked in the same transaction.
      const collect = a.transaction(async (tx) => {
        const retained = await tx.retainedPackBitmap(own.id);
        if (++collectRuns === 1) await bothRead();
        if (bitmap.has(retained, pack.seq)) return false;
        return (await tx.markPacksDeleted(own.id, [pack.seq], T0 + 1)) === 1;
      });
      // A backup's commit, on the other instance, done before the collector writes.
      const commit = b.transaction(async (tx) => {
        const point = await tx.commitPoint({
          serverId: own.id,
          snapshotName: `snap-${round}`,
          time: T0,
          stats: {},
          packSeqs: [pack.seq],
          committedAt: T0,
        });
        if (++commitRuns === 1) await bothRead();
        return point;
      });
      const [deleted, committed] = await Promise.allSettled([collect, commit]);
      assert.equal(deleted.status, 'fulfilled');
      const packDeleted = (await a.findPack(own.id, pack.name))!.deletedAt !== null;
      assert.equal(packDeleted, (deleted as PromiseFulfilledResult<boolean>).value);
      // Exactly one of the two won; the other saw its outcome when it ran again.
      assert.equal(codeOf(committed), packDeleted ? 'PACK_DELETED' : 'ok', `round ${round}`);
      // Usually one of the two runs again; when the scheduler lets one finish before the
      // other's snapshot is taken, neither needs to, and the outcome above must still hold.
      reruns += collectRuns + commitRuns - 2;
    }
    t.diagnostic(`${reruns} transactions ran again over 4 rounds`);
  });

  it('run a transaction again when a concurrent one wins, so that each saw the other', async () => {
    const bothRead = barrier(2);
    let runs = 0;
    const createIfNone = (c: Catalog, name: string) => {
      let attempt = 0;
      return c.transaction(async (tx) => {
        attempt++;
        runs++;
        const webhooks = await tx.listWebhooks(vault.id);
        if (attempt === 1) await bothRead();
        if (webhooks.length > 0) return false;
        await tx.createWebhook({
          vaultId: vault.id,
          url: `https://${name}.test/`,
          secretSealed: null,
          createdAt: T0,
        });
        return true;
      });
    };
    const created = await Promise.all([createIfNone(a, 'a'), createIfNone(b, 'b')]);
    assert.deepEqual(created.sort(), [false, true]);
    assert.equal((await a.listWebhooks(vault.id)).length, 1);
    assert.ok(runs >= 3, `runs: ${runs}`);
  });

  it('raise an alert once when both raise it at once, counting both', async () => {
    const own = await makeVault(a, 'alerts');
    const bothRead = barrier(2);
    const raise = (c: Catalog) => {
      let attempt = 0;
      return c.transaction(async (tx) => {
        await tx.findOpenAlert(own.id, 'k');
        if (++attempt === 1) await bothRead();
        return tx.raiseAlert({
          vaultId: own.id,
          serverId: null,
          kind: 'quota',
          severity: 'warning',
          message: 'full',
          dedupeKey: 'k',
          raisedAt: T0,
        });
      });
    };
    const raised = await Promise.all([raise(a), raise(b)]);
    assert.deepEqual(raised.map((r) => r.created).sort(), [false, true]);
    const [alert, ...others] = await b.listAlerts(own.id);
    assert.equal(others.length, 0);
    assert.equal(alert!.occurrences, 2);
  });

  it('hand each due webhook delivery to one instance only', async () => {
    const own = await makeVault(a, 'deliveries');
    await a.createWebhook({ vaultId: own.id, url: 'https://hook.test/', secretSealed: null, createdAt: T0 });
    for (let i = 0; i < 10; i++) {
      await a.raiseAlert({
        vaultId: own.id,
        serverId: null,
        kind: 'k',
        severity: 'info',
        message: `m${i}`,
        dedupeKey: `k${i}`,
        raisedAt: T0,
      });
    }
    const [fromA, fromB] = await Promise.all([
      a.claimWebhookDeliveries(T0, T0 + HOUR, 10),
      b.claimWebhookDeliveries(T0, T0 + HOUR, 10),
    ]);
    const ids = [...fromA!, ...fromB!].map((d) => d.id);
    assert.equal(ids.length, 10);
    assert.equal(new Set(ids).size, 10);
  });
});

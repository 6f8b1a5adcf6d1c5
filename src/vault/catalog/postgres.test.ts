import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogDatabases } from '../../../test/helpers/pg-catalog-server.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { isOffsiteError } from '../../errors/index.ts';
import { catalogSuite } from './catalog-suite.ts';
import { MIGRATIONS } from './migrations.ts';
import { createPool, parseCatalogUrl } from './postgres/connect.ts';
import { PostgresCatalog } from './postgres/index.ts';
import { postgresSql } from './postgres/migrate.ts';
import { bytes, num } from './shared/columns.ts';
import { makeServer, makeVault, rejectsWith, T0 } from './suite/context.ts';

// The shared suite against a real PostgreSQL server (a fresh database per test), then
// what only this backend has: migrations under an advisory lock, its URL and connection
// errors, and the transaction rules SQLite enforces by running on one connection.
// Several instances on one database: ./postgres/instances.test.ts.

const databases = catalogDatabases();

catalogSuite('PostgresCatalog', async () => PostgresCatalog.open(await databases.fresh()));

async function recordedVersions(url: string): Promise<number[]> {
  const rows = await databases.query(url, 'SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => Number(row.version));
}

const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);

describe('PostgresCatalog migrations', () => {
  it('applies each migration once and keeps its data across reopening', async () => {
    const url = await databases.fresh();
    const first = await PostgresCatalog.open(url);
    assert.deepEqual(first.migrationsApplied, ALL_VERSIONS);
    const vault = await makeVault(first);
    const server = await makeServer(first, vault.id);
    await first.close();
    const second = await PostgresCatalog.open(url);
    assert.deepEqual(second.migrationsApplied, []);
    assert.deepEqual(await second.getVault(vault.id), vault);
    assert.deepEqual(await second.findServerByFingerprint(server.certFingerprint), server);
    await second.close();
    assert.deepEqual(await recordedVersions(url), ALL_VERSIONS);
  });

  it('migrates once when several instances open a fresh database at the same time', async () => {
    const url = await databases.fresh();
    const catalogs = await Promise.all(Array.from({ length: 6 }, () => PostgresCatalog.open(url)));
    const applied = catalogs.map((c) => c.migrationsApplied);
    assert.equal(applied.filter((a) => a.length > 0).length, 1, `applied: ${JSON.stringify(applied)}`);
    assert.deepEqual(
      applied.find((a) => a.length > 0),
      ALL_VERSIONS,
    );
    assert.deepEqual(await recordedVersions(url), ALL_VERSIONS);
    const vault = await makeVault(catalogs[0]!);
    assert.deepEqual(await catalogs[5]!.getVault(vault.id), vault);
    await Promise.all(catalogs.map((c) => c.close()));
  });

  it('writes the pack bitmaps BYTEA, the one SQLite spelling it maps, and nothing else', async () => {
    for (const migration of MIGRATIONS) {
      const mapped = postgresSql(migration.sql);
      assert.doesNotMatch(mapped, /\bBLOB\b/);
      assert.equal(mapped.replaceAll('BYTEA', 'BLOB'), migration.sql.replaceAll('BYTEA', 'BLOB'));
    }
    const url = await databases.fresh();
    await (await PostgresCatalog.open(url)).close();
    const [column] = await databases.query(
      url,
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'recovery_points' AND column_name = 'packs'",
    );
    assert.equal(column?.data_type, 'bytea');
  });

  it('upgrades a version 1 catalog in place, keeping its tokens and jobs', async () => {
    const url = await databases.fresh();
    await databases.query(
      url,
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    await databases.query(url, postgresSql(MIGRATIONS[0]!.sql));
    await databases.query(url, 'INSERT INTO schema_migrations VALUES (1, $1, $2)', [MIGRATIONS[0]!.name, T0]);
    await databases.query(
      url,
      "INSERT INTO vaults VALUES ('v', 'main', 'local', NULL, 14, 0, NULL, $1, NULL)",
      [T0],
    );
    await databases.query(
      url,
      "INSERT INTO api_tokens VALUES ('t', 'hash', 'admin', 'owner', NULL, $1, NULL, NULL)",
      [T0],
    );
    await databases.query(
      url,
      "INSERT INTO jobs VALUES ('j', 'v', NULL, 'backup', 'warning', $1, $2, 7, NULL, '[\"/x\"]')",
      [T0, T0 + 1],
    );
    const catalog = await PostgresCatalog.open(url);
    assert.deepEqual(
      catalog.migrationsApplied,
      MIGRATIONS.slice(1).map((m) => m.version),
    );
    assert.equal((await catalog.findToken('hash', T0))!.userId, null);
    const job = await catalog.getJob('j');
    assert.deepEqual([job.skippedFiles, job.skippedCount, job.bytes], [['/x'], 1, 7]);
    assert.deepEqual(await catalog.listWebhooks('v'), []);
    await catalog.close();
  });

  it('refuses a catalog written by a newer Offsite, changing nothing', async () => {
    const url = await databases.fresh();
    await (await PostgresCatalog.open(url)).close();
    await databases.query(url, "INSERT INTO schema_migrations VALUES (999, 'future', $1)", [T0]);
    await rejectsWith(PostgresCatalog.open(url), 'conflict', 'CATALOG_TOO_NEW');
    assert.deepEqual(await recordedVersions(url), [...ALL_VERSIONS, 999]);
  });
});

describe('PostgresCatalog column values', () => {
  it('come from pg as the shared readers take them: BIGINT as a number, BYTEA as a plain copy', async () => {
    const { pool } = createPool(await databases.fresh(), {});
    try {
      const { rows } = await pool.query(
        "SELECT 42::bigint AS small, 9007199254740993::bigint AS big, '\\x0102ff'::bytea AS packs",
      );
      const [row] = rows;
      assert.equal(num(row, 'small'), 42);
      assert.equal(row.big, '9007199254740993');
      assert.throws(() => num(row, 'big'), { code: 'CATALOG_CORRUPT' });
      const packs = bytes(row, 'packs');
      assert.ok(Buffer.isBuffer(row.packs) && !Buffer.isBuffer(packs));
      assert.deepEqual(packs, new Uint8Array([1, 2, 255]));
    } finally {
      await pool.end();
    }
  });
});

/** Asserts the open fails with this kind and code, naming `where` and never showing the password. */
async function refusedOpen(url: string, kind: string, code: string, where: string, password: string) {
  await assert.rejects(PostgresCatalog.open(url, { connectTimeoutMs: 5000 }), (err) => {
    assert.ok(isOffsiteError(err), String(err));
    assert.deepEqual([err.kind, err.code], [kind, code], err.message);
    assert.ok(err.message.includes(where), `"${err.message}" should name ${where}`);
    const shown = JSON.stringify(err) + err.message;
    assert.ok(!shown.includes(password) && !shown.includes(encodeURIComponent(password)), shown);
    return true;
  });
}

describe('PostgresCatalog URLs and connections', () => {
  it('refuses a malformed URL as bad input without echoing it', async () => {
    for (const url of [
      'not a url',
      'mysql://me:hunter22@db/offsite',
      'postgres://me:%zzhunter22@db/offsite',
    ]) {
      await assert.rejects(PostgresCatalog.open(url), (err) => {
        assert.ok(isOffsiteError(err));
        assert.deepEqual([err.kind, err.code], ['bad-input', 'BAD_CATALOG_URL']);
        assert.ok(!err.message.includes('hunter22'), err.message);
        return true;
      });
    }
  });

  it('starts every session SERIALIZABLE, keeping options the URL gives', () => {
    const plain = parseCatalogUrl('postgresql://me:s%40cret@db.example:6543/offsite?sslmode=require');
    assert.equal(plain.options, '-c default_transaction_isolation=serializable');
    assert.deepEqual(plain.target, { where: 'db.example:6543/offsite', password: 's@cret' });
    assert.match(plain.connectionString, /sslmode=require/);
    const own = parseCatalogUrl('postgres://me@db/offsite?options=-c%20statement_timeout%3D5000');
    assert.equal(own.options, '-c statement_timeout=5000 -c default_transaction_isolation=serializable');
    assert.doesNotMatch(own.connectionString, /options/);
    assert.equal(own.target.where, 'db:5432/offsite');
  });

  it('runs even single statements outside transactions SERIALIZABLE', async () => {
    const { pool } = createPool(`${await databases.fresh()}?options=-c%20statement_timeout%3D5000`, {});
    const { rows } = await pool.query(
      "SELECT current_setting('transaction_isolation') AS isolation, current_setting('statement_timeout') AS timeout",
    );
    assert.deepEqual(rows, [{ isolation: 'serializable', timeout: '5s' }]);
    await pool.end();
  });

  it('reports a server it cannot reach as transient, naming the host and never the password', async () => {
    const port = await freePort();
    const password = 'n0t-shown-anywhere';
    const url = `postgres://offsite:${password}@127.0.0.1:${port}/catalog`;
    await refusedOpen(url, 'transient', 'CATALOG_UNREACHABLE', `127.0.0.1:${port}/catalog`, password);
  });

  it('names a refused password and a missing database, never showing the password', async () => {
    const server = await databases.server();
    const where = `127.0.0.1:${server.port}`;
    const wrong = 'wrong password 123';
    await refusedOpen(server.url('postgres', wrong), 'auth', 'CATALOG_AUTH_FAILED', where, wrong);
    await refusedOpen(
      server.url('nowhere'),
      'not-found',
      'CATALOG_DATABASE_NOT_FOUND',
      where,
      server.password,
    );
  });
});

describe('PostgresCatalog transactions', () => {
  it('reports a connection lost inside a transaction as transient, keeps nothing, and reconnects', async () => {
    const url = await databases.fresh();
    const catalog = await PostgresCatalog.open(url);
    const database = new URL(url).pathname.slice(1);
    const cut = () =>
      databases.query(
        url,
        `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'offsite'`,
        [database],
      );
    await rejectsWith(
      catalog.transaction(async (tx) => {
        await makeVault(tx, 'lost');
        await cut();
        return makeVault(tx, 'after');
      }),
      'transient',
      'CATALOG_UNREACHABLE',
    );
    assert.deepEqual(await catalog.listVaults(), []);
    await makeVault(catalog, 'later');
    await catalog.close();
  });

  it('refuses a call to itself or to an outer transaction from inside a transaction instead of hanging', async () => {
    const catalog = await PostgresCatalog.open(await databases.fresh());
    await rejectsWith(
      catalog.transaction(async () => catalog.listVaults()),
      'internal',
      'CATALOG_TX_MISUSE',
    );
    await rejectsWith(
      catalog.transaction(async (tx) => tx.transaction(async () => makeVault(tx))),
      'internal',
      'CATALOG_TX_MISUSE',
    );
    assert.deepEqual(await catalog.listVaults(), []);
    await catalog.close();
  });

  it('refuses text PostgreSQL cannot store (NUL) as bad input', async () => {
    const catalog = await PostgresCatalog.open(await databases.fresh());
    await rejectsWith(catalog.getVault('a\0b'), 'bad-input', 'BAD_FIELD');
    await rejectsWith(catalog.consumeCredentials('x\0y', T0), 'bad-input', 'BAD_FIELD');
    await catalog.close();
  });

  it('runs calls made at once inside a transaction one after another, a failed one undone alone', async () => {
    const catalog = await PostgresCatalog.open(await databases.fresh());
    const outcomes = await catalog.transaction(async (tx) =>
      Promise.allSettled(['a', 'b', 'a', 'c', 'd'].map((name) => makeVault(tx, name))),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    const refused = (outcomes[2] as PromiseRejectedResult).reason;
    assert.ok(isOffsiteError(refused) && refused.code === 'VAULT_EXISTS', String(refused));
    assert.deepEqual(
      (await catalog.listVaults()).map((v) => v.name),
      ['a', 'b', 'c', 'd'],
    );
    await catalog.close();
  });

  it('waits for a running transaction before closing, then refuses calls', async () => {
    const catalog = await PostgresCatalog.open(await databases.fresh());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = catalog.transaction(async (t) => {
      await gate;
      return makeVault(t);
    });
    const closed = catalog.close();
    release();
    const vault = await tx;
    await closed;
    assert.equal(vault.name, 'main');
    await rejectsWith(catalog.listVaults(), 'internal', 'CATALOG_CLOSED');
    await catalog.close();
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { isOffsiteError } from '../../errors/index.ts';
import { catalogSuite } from './catalog-suite.ts';
import { MIGRATIONS } from './migrations.ts';
import { SqliteCatalog } from './sqlite.ts';
import { makeServer, makeVault, rejectsWith, T0 } from './suite/context.ts';

let dir = '';
let files = 0;
const freshPath = () => join(dir, `catalog-${files++}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'offsite-catalog-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

catalogSuite('SqliteCatalog in memory', async () => SqliteCatalog.memory());
catalogSuite('SqliteCatalog on a file', async () => SqliteCatalog.open(freshPath()));

function recordedVersions(path: string): number[] {
  const raw = new DatabaseSync(path);
  try {
    return raw
      .prepare('SELECT version FROM schema_migrations ORDER BY version')
      .all()
      .map((r) => Number(r.version));
  } finally {
    raw.close();
  }
}

describe('SqliteCatalog files', () => {
  it('keeps its data across reopening and applies each migration once', async () => {
    const path = freshPath();
    const first = SqliteCatalog.open(path);
    assert.deepEqual(
      first.migrationsApplied,
      MIGRATIONS.map((m) => m.version),
    );
    const vault = await makeVault(first);
    const server = await makeServer(first, vault.id);
    await first.close();

    const second = SqliteCatalog.open(path);
    assert.deepEqual(second.migrationsApplied, []);
    assert.deepEqual(await second.getVault(vault.id), vault);
    assert.deepEqual(await second.findServerByFingerprint(server.certFingerprint), server);
    await second.close();
    assert.deepEqual(
      recordedVersions(path),
      MIGRATIONS.map((m) => m.version),
    );
  });

  it('upgrades a version 1 catalog in place, keeping its tokens and jobs', async () => {
    const path = freshPath();
    const raw = new DatabaseSync(path);
    raw.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    raw.exec(MIGRATIONS[0]!.sql);
    raw.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?)').run(MIGRATIONS[0]!.name, T0);
    raw.prepare("INSERT INTO vaults VALUES ('v', 'main', 'local', NULL, 14, 0, NULL, ?, NULL)").run(T0);
    raw.prepare("INSERT INTO api_tokens VALUES ('t', 'hash', 'admin', 'owner', NULL, ?, NULL, NULL)").run(T0);
    raw
      .prepare("INSERT INTO jobs VALUES ('j', 'v', NULL, 'backup', 'warning', ?, ?, 7, NULL, '[\"/x\"]')")
      .run(T0, T0 + 1);
    raw.close();
    const catalog = SqliteCatalog.open(path);
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

  it('uses WAL mode', async () => {
    const path = freshPath();
    await SqliteCatalog.open(path).close();
    const raw = new DatabaseSync(path);
    assert.equal(raw.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    raw.close();
  });

  it('refuses a catalog written by a newer Offsite, changing nothing', async () => {
    const path = freshPath();
    await SqliteCatalog.open(path).close();
    const raw = new DatabaseSync(path);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(999, 'future', T0);
    raw.close();
    assert.throws(() => SqliteCatalog.open(path), { code: 'CATALOG_TOO_NEW', kind: 'conflict' });
    assert.deepEqual(recordedVersions(path), [...MIGRATIONS.map((m) => m.version), 999]);
  });

  it('says clearly when the file is not a database or cannot be opened', async () => {
    const garbage = freshPath();
    await writeFile(garbage, 'this is not a database, just some text that is long enough'.repeat(20));
    assert.throws(() => SqliteCatalog.open(garbage), { code: 'CATALOG_CORRUPT', kind: 'integrity' });
    const nowhere = join(dir, 'missing-folder', 'catalog.db');
    assert.throws(() => SqliteCatalog.open(nowhere), { code: 'CATALOG_OPEN_FAILED', kind: 'bad-input' });
  });

  it('shares one file between two open catalogs', async () => {
    const path = freshPath();
    const a = SqliteCatalog.open(path);
    const b = SqliteCatalog.open(path);
    const vault = await makeVault(a);
    assert.deepEqual(await b.getVault(vault.id), vault);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('SqliteCatalog lifecycle', () => {
  it('refuses a call to itself from inside its own transaction instead of hanging', async () => {
    const catalog = SqliteCatalog.memory();
    await assert.rejects(
      catalog.transaction(async () => catalog.listVaults()),
      (err) => isOffsiteError(err) && err.code === 'CATALOG_TX_MISUSE',
    );
    assert.deepEqual(await catalog.listVaults(), []);
    await catalog.close();
  });

  it('waits for a running transaction before closing, then refuses calls', async () => {
    const catalog = SqliteCatalog.memory();
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

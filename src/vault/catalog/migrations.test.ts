import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIGRATIONS, type Migration, pendingMigrations } from './migrations.ts';

const three: Migration[] = [
  { version: 1, name: 'one', sql: '' },
  { version: 3, name: 'three', sql: '' },
  { version: 2, name: 'two', sql: '' },
];

describe('pendingMigrations', () => {
  it('returns every migration, in order, for a fresh catalog', () => {
    assert.deepEqual(
      pendingMigrations([], three).map((m) => m.version),
      [1, 2, 3],
    );
  });

  it('returns only the missing newer ones, and none for an up-to-date catalog', () => {
    assert.deepEqual(
      pendingMigrations([1], three).map((m) => m.version),
      [2, 3],
    );
    assert.deepEqual(pendingMigrations([1, 2, 3], three), []);
  });

  it('refuses a catalog from a newer version with CATALOG_TOO_NEW', () => {
    assert.throws(() => pendingMigrations([1, 2, 3, 4], three), {
      code: 'CATALOG_TOO_NEW',
      kind: 'conflict',
    });
  });

  it('refuses a history with a hole', () => {
    assert.throws(() => pendingMigrations([1, 3], three), { code: 'CATALOG_MIGRATION_MISSING' });
  });

  it('ships versions that are unique, positive and ascending', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    assert.ok(versions.every((v, i) => Number.isInteger(v) && v === i + 1));
  });
});

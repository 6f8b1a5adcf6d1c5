import { pendingMigrations } from '../migrations.ts';
import { num } from '../shared/columns.ts';
import type { Db } from './db.ts';

/**
 * Brings the schema up to date in one transaction, so a failed step leaves the catalog
 * as it was, and two processes opening a fresh file at once do not both migrate.
 * Returns the versions applied now (none for an up-to-date catalog).
 */
export function migrate(db: Db, now: number): number[] {
  return db.atomic(() => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const applied = db.all('SELECT version FROM schema_migrations').map((row) => num(row, 'version'));
    const pending = pendingMigrations(applied);
    for (const migration of pending) {
      db.exec(migration.sql);
      db.run(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
        migration.version,
        migration.name,
        now,
      );
    }
    return pending.map((migration) => migration.version);
  });
}

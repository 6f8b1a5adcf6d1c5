import type pg from 'pg';
import { MIGRATIONS, type Migration, pendingMigrations } from '../migrations.ts';
import { num } from '../shared/columns.ts';

// The shared numbered migrations (../migrations.ts), applied as they are written. Their
// SQL is portable except where a type is spelled the SQLite way; the one mapping below
// spells it for PostgreSQL. Released migrations are never edited, so this list only
// grows when a new migration uses another such spelling.

/** SQLite type spellings in the shared migrations, and what PostgreSQL calls them. */
const TYPE_SPELLINGS: readonly (readonly [RegExp, string])[] = [[/\bBLOB\b/g, 'BYTEA']];

export function postgresSql(sql: string): string {
  return TYPE_SPELLINGS.reduce((text, [sqlite, postgres]) => text.replace(sqlite, postgres), sql);
}

/**
 * Serialises migrators across every instance on one database: a transaction-level
 * advisory lock, released by COMMIT or ROLLBACK (also when the connection dies). The key
 * is 'offsite' in ASCII.
 */
const MIGRATION_LOCK = '31356312623871077';

/**
 * Brings the schema up to date in one transaction, so a failed step leaves the catalog as
 * it was. Several instances starting at once queue on the advisory lock; each then sees
 * what the ones before it applied and applies only what is still missing (nothing).
 * Returns the versions applied now.
 */
export async function migrate(pool: pg.Pool, now: number, known = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const ignore = () => {}; // a lost connection fails the next statement, which says so
  client.on('error', ignore);
  let broken: Error | undefined;
  try {
    return await migrateOn(client, now, known);
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off('error', ignore);
    client.release(broken);
  }
}

async function migrateOn(client: pg.PoolClient, now: number, known: readonly Migration[]): Promise<number[]> {
  // READ COMMITTED: each statement sees what committed before it, so the reads below see
  // the work of whoever held the lock before us (SERIALIZABLE would keep the snapshot
  // taken while we waited).
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const rows = (await client.query('SELECT version FROM schema_migrations')).rows;
    const pending = pendingMigrations(
      rows.map((row) => num(row, 'version')),
      known,
    );
    for (const migration of pending) {
      await client.query(postgresSql(migration.sql));
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        now,
      ]);
    }
    await client.query('COMMIT');
    return pending.map((migration) => migration.version);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

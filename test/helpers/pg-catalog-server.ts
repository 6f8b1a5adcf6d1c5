// Empty PostgreSQL databases for catalog tests: one private server per test file (./postgres.ts
// starts it), a new database per call of fresh(). Call catalogDatabases() at the top level
// of a test file.
import { after } from 'node:test';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from './postgres.ts';

export interface CatalogDatabases {
  /** A new, empty database; returns its URL (with the password). */
  fresh(): Promise<string>;
  /** Runs one statement as the superuser in the database at `url`; returns the rows. */
  query(url: string, sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  server(): Promise<TestPostgres>;
}

/** The server starts on first use (whatever order hooks run in) and stops after the file's tests. */
export function catalogDatabases(): CatalogDatabases {
  const cleanups: (() => Promise<void>)[] = [];
  let started: Promise<{ server: TestPostgres; admin: pg.Client }> | undefined;
  const start = () => {
    started ??= (async () => {
      const server = await startTestPostgres({ after: (fn) => cleanups.push(fn) });
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      return { server, admin };
    })();
    return started;
  };
  let count = 0;
  after(async () => {
    await started?.then(({ admin }) => admin.end()).catch(() => {});
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return {
    async fresh() {
      const { server, admin } = await start();
      const name = `catalog_${count++}`;
      // FILE_COPY: a small database is copied faster than it is WAL-logged.
      await admin.query(`CREATE DATABASE ${name} STRATEGY FILE_COPY`);
      return server.url(name);
    },
    async query(url, sql, params = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async server() {
      return (await start()).server;
    },
  };
}

import { DatabaseSync } from 'node:sqlite';
import { BadInputError, IntegrityError, isOffsiteError } from '../../errors/index.ts';
import { catalogClosed, transactionMisuse } from './shared/lifecycle.ts';
import { CatalogMethods, type Method, type Result, type SyncOperations } from './shared/methods.ts';
import { Db } from './sqlite/db.ts';
import { migrate } from './sqlite/migrate.ts';
import * as operations from './sqlite/operations.ts';
import { Scope } from './sqlite/scope.ts';
import type { Catalog } from './types.ts';

export interface SqliteCatalogOptions {
  /** How long a write waits for another process's lock before failing; default 5 s. */
  busyTimeoutMs?: number;
}

/** SQLITE_NOTADB: the file exists but is not an SQLite database. */
const SQLITE_NOTADB = 26;

/** Typed here so a missing operation, or one with other arguments, fails to compile. */
const OPERATIONS: SyncOperations<Db> = operations;

/** The connection shared by a catalog and the transactions started from it. */
interface Connection {
  db: Db;
  closed: boolean;
}

/**
 * The embedded catalog: one `node:sqlite` connection in WAL mode with foreign keys on.
 * Calls are synchronous underneath; transaction(fn) keeps other callers out while fn
 * runs (see ./sqlite/scope.ts). The Catalog methods come from ./shared/methods.ts and
 * run the operations of ./sqlite/*.ts, which share what is not SQL with PostgreSQL's
 * (./shared/*.ts). Open with `SqliteCatalog.open(path)` or `.memory()`.
 */
export class SqliteCatalog extends CatalogMethods {
  readonly #connection: Connection;
  readonly #scope: Scope;
  /** The migration versions applied when this catalog was opened (empty if none were due). */
  readonly migrationsApplied: readonly number[];

  private constructor(connection: Connection, scope: Scope, migrationsApplied: readonly number[]) {
    super();
    this.#connection = connection;
    this.#scope = scope;
    this.migrationsApplied = migrationsApplied;
  }

  /** Opens (creating if needed) the catalog file and brings its schema up to date. */
  static open(path: string, options: SqliteCatalogOptions = {}): SqliteCatalog {
    let raw: DatabaseSync | undefined;
    try {
      raw = new DatabaseSync(path, {
        enableForeignKeyConstraints: true,
        timeout: options.busyTimeoutMs ?? 5000,
      });
      // Readers never block the writer, and a crash mid-write never damages the file.
      raw.exec('PRAGMA journal_mode = WAL');
      const db = new Db(raw);
      const applied = migrate(db, Date.now());
      return new SqliteCatalog({ db, closed: false }, new Scope(), applied);
    } catch (err) {
      raw?.close();
      throw openFailure(path, err);
    }
  }

  /** A private database that vanishes on close: for tests. */
  static memory(): SqliteCatalog {
    return SqliteCatalog.open(':memory:');
  }

  /** Runs the synchronous operation once no transaction of another caller is running. */
  protected call<M extends Method>(method: M, ...args: Parameters<Catalog[M]>): Promise<Result<M>> {
    const operation = OPERATIONS[method];
    return this.#scope.run(() => {
      if (this.#connection.closed) throw catalogClosed();
      return operation(this.#connection.db, ...args);
    });
  }

  transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T> {
    const { db } = this.#connection;
    return this.#scope.nest(
      () => {
        if (this.#connection.closed) throw catalogClosed();
        db.begin();
      },
      (scope) => fn(new SqliteCatalog(this.#connection, scope, this.migrationsApplied)),
      (ok) => (ok ? db.commit() : db.rollback()),
    );
  }

  async close(): Promise<void> {
    if (this.#scope.parent) {
      throw transactionMisuse('a transaction cannot close the catalog');
    }
    await this.#scope.run(() => {
      if (this.#connection.closed) return;
      this.#connection.closed = true;
      this.#connection.db.close();
    });
  }
}

function openFailure(path: string, err: unknown): unknown {
  if (isOffsiteError(err)) return err;
  const errcode = (err as { errcode?: unknown }).errcode;
  const detail = err instanceof Error ? err.message : String(err);
  if (errcode === SQLITE_NOTADB) {
    return new IntegrityError('CATALOG_CORRUPT', `the catalog at ${path} is not an SQLite database`, {
      cause: err,
      object: path,
      hint: 'check the configured catalog path; restore the file from a backup or rebuild it from storage',
    });
  }
  return new BadInputError('CATALOG_OPEN_FAILED', `cannot open the catalog at ${path}: ${detail}`, {
    cause: err,
    hint: 'check that the folder exists and is writable by the vault server',
  });
}

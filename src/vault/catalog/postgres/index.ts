// PostgresCatalog: the Catalog (../types.ts) over PostgreSQL, for several vault server
// instances sharing one catalog. It applies the same numbered migrations as SQLite on open
// (./migrate.ts; one SQLite type spelling is mapped), under an advisory lock, so instances
// starting together migrate once. Every transaction is SERIALIZABLE and runs again when
// PostgreSQL refuses it for a conflict (./db.ts), so concurrent instances get the outcomes
// SQLite's single writer gives. Errors carry the codes SQLite's do; the shared suite
// (../catalog-suite.ts) runs against both. The operations mirror ../sqlite/*.ts, one
// file per table family, and share with them what is not SQL or driver calls (../shared/:
// columns, row conversion, input checks, errors, the Catalog methods themselves). Open with
// `await PostgresCatalog.open('postgres://…')`.

import type pg from 'pg';
import { catalogClosed, transactionMisuse } from '../shared/lifecycle.ts';
import { type AsyncOperations, CatalogMethods, type Method, type Result } from '../shared/methods.ts';
import type { Catalog } from '../types.ts';
import { createPool, type PoolOptions } from './connect.ts';
import { type Db, PoolDb } from './db.ts';
import { openFailure, type Target } from './errors.ts';
import { migrate } from './migrate.ts';
import * as operations from './operations.ts';
import { refuseFromInside, Scope } from './scope.ts';

export type PostgresCatalogOptions = PoolOptions;

/** Typed here so a missing operation, or one with other arguments, fails to compile. */
const OPERATIONS: AsyncOperations<Db> = operations;

/** What a catalog and the transactions started from it share. */
interface Shared {
  pool: pg.Pool;
  target: Target;
  closed: boolean;
  /** Calls and transactions started on the catalog itself that have not settled. */
  running: Set<Promise<void>>;
  closing: Promise<void> | undefined;
}

/**
 * The shared catalog: a pool of connections to one PostgreSQL database. Calls outside a
 * transaction run on any pooled connection; transaction(fn) holds one connection until fn
 * settles, running the calls fn makes on it one at a time (./scope.ts).
 */
export class PostgresCatalog extends CatalogMethods {
  readonly #shared: Shared;
  /** undefined: the catalog itself; otherwise the transaction this handle belongs to. */
  readonly #scope: Scope | undefined;
  readonly #db: Db;
  /** The migration versions applied when this catalog was opened (empty if none were due). */
  readonly migrationsApplied: readonly number[];

  private constructor(
    shared: Shared,
    scope: Scope | undefined,
    db: Db,
    migrationsApplied: readonly number[],
  ) {
    super();
    this.#shared = shared;
    this.#scope = scope;
    this.#db = db;
    this.migrationsApplied = migrationsApplied;
  }

  /**
   * Connects and brings the schema up to date. A malformed URL is BAD_CATALOG_URL; a
   * server that cannot be reached is CATALOG_UNREACHABLE (transient); messages name the
   * host and database, never the password.
   */
  static async open(url: string, options: PostgresCatalogOptions = {}): Promise<PostgresCatalog> {
    const { pool, target } = createPool(url, options);
    try {
      const applied = await migrate(pool, Date.now());
      const shared: Shared = { pool, target, closed: false, running: new Set(), closing: undefined };
      return new PostgresCatalog(shared, undefined, new PoolDb(pool, target), applied);
    } catch (err) {
      await pool.end().catch(() => {});
      throw openFailure(err, target);
    }
  }

  /** Runs one operation: on the pool, or as a savepoint of the transaction this handle belongs to. */
  protected async call<M extends Method>(method: M, ...args: Parameters<Catalog[M]>): Promise<Result<M>> {
    const operation = (db: Db): Promise<Result<M>> => OPERATIONS[method](db, ...args);
    const scope = this.#scope;
    // A failed call inside a transaction is undone alone and the transaction goes on, as
    // with SQLite (in PostgreSQL a failed statement would otherwise abort the transaction).
    if (scope) return scope.exclusive(() => this.#db.atomic(operation));
    return this.#topLevel(() => operation(this.#db));
  }

  /** A call on the catalog itself: refused once closed, or from inside its own transaction. */
  async #topLevel<T>(run: () => Promise<T>): Promise<T> {
    const shared = this.#shared;
    if (shared.closed) throw catalogClosed();
    refuseFromInside(shared);
    const done = run();
    const settled = done.then(
      () => {},
      () => {},
    );
    shared.running.add(settled);
    try {
      return await done;
    } finally {
      shared.running.delete(settled);
    }
  }

  /**
   * At the top level fn may run more than once: when PostgreSQL refuses the transaction for
   * a conflict with a concurrent one, it is rolled back and fn runs again on a fresh handle.
   * So fn must change nothing but the catalog, through `tx`.
   */
  async transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T> {
    const scope = this.#scope;
    if (scope) {
      const child = new Scope(this.#shared, scope);
      return scope.exclusive(() => this.#db.atomic((db) => this.#body(child, db, fn)), child);
    }
    return this.#topLevel(() => this.#db.atomic((db) => this.#body(new Scope(this.#shared), db, fn)));
  }

  /** Runs fn on a handle of its own, which refuses further calls once fn has settled. */
  async #body<T>(scope: Scope, db: Db, fn: (tx: Catalog) => Promise<T>): Promise<T> {
    const tx = new PostgresCatalog(this.#shared, scope, db, this.migrationsApplied);
    try {
      return await scope.body(() => fn(tx));
    } finally {
      await scope.finish();
    }
  }

  async close(): Promise<void> {
    if (this.#scope) throw transactionMisuse('a transaction cannot close the catalog');
    const shared = this.#shared;
    shared.closed = true;
    shared.closing ??= drainAndEnd(shared);
    await shared.closing;
  }
}

/** Waits for what is running, then closes every connection. */
async function drainAndEnd(shared: Shared): Promise<void> {
  while (shared.running.size > 0) await Promise.all(shared.running);
  await shared.pool.end();
}

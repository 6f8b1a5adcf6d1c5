import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isRetryable, type Target, translate } from './errors.ts';

// Statements against the catalog database, at the top level (a pool: each statement its
// own transaction) or inside one transaction (one client). Every transaction is
// SERIALIZABLE, so whatever runs concurrently, on this instance or another, the outcome is
// that of some serial order, as with SQLite's one writer; the price is that PostgreSQL may
// refuse one of two conflicting transactions (serialization failure, deadlock), which is
// then run again from the start.

export type Row = Record<string, unknown>;
export type Param = string | number | null | Uint8Array | readonly number[] | readonly string[];

export interface Db {
  get(sql: string, ...params: Param[]): Promise<Row | undefined>;
  all(sql: string, ...params: Param[]): Promise<Row[]>;
  /** Returns the number of rows changed. */
  run(sql: string, ...params: Param[]): Promise<number>;
  /**
   * fn's statements all happen or none does: at the top level in a transaction of their
   * own (run again after a serialization failure, so fn must only use the db it gets),
   * inside a transaction as a savepoint. Use the db fn receives.
   */
  atomic<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}

/** How many times in all a statement or transaction that lost a conflict is run. */
const ATTEMPTS = 10;
/** The longest pause between two runs, in milliseconds. */
const MAX_PAUSE = 100;

/** pg sends Buffers as BYTEA; other byte arrays must be Buffers first. */
function values(params: Param[]): unknown[] {
  return params.map((p) =>
    p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p,
  );
}

function ignore(): void {}

/** Runs attempt until it succeeds or fails for good; errors come out translated. */
export async function retrying<T>(target: Target, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isRetryable(err) || n >= ATTEMPTS) throw translate(err, target);
      // Random pauses, growing, spread apart transactions that keep colliding.
      await sleep(Math.random() * Math.min(MAX_PAUSE, 2 ** n));
    }
  }
}

abstract class Statements implements Db {
  protected abstract execute(sql: string, params: unknown[]): Promise<pg.QueryResult<Row>>;
  abstract atomic<T>(fn: (db: Db) => Promise<T>): Promise<T>;

  async get(sql: string, ...params: Param[]): Promise<Row | undefined> {
    return (await this.execute(sql, values(params))).rows[0];
  }

  async all(sql: string, ...params: Param[]): Promise<Row[]> {
    return (await this.execute(sql, values(params))).rows;
  }

  async run(sql: string, ...params: Param[]): Promise<number> {
    return (await this.execute(sql, values(params))).rowCount ?? 0;
  }
}

/** The top level: each statement on any pooled connection, as its own (serializable) transaction. */
export class PoolDb extends Statements {
  readonly #pool: pg.Pool;
  readonly #target: Target;

  constructor(pool: pg.Pool, target: Target) {
    super();
    this.#pool = pool;
    this.#target = target;
  }

  protected execute(sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    return retrying(this.#target, () => this.#pool.query<Row>(sql, params));
  }

  atomic<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return retrying(this.#target, () => this.#once(fn));
  }

  /** One run of a transaction on one pooled connection. */
  async #once<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    // A connection lost while fn awaits something else is reported by the next statement;
    // unheard, the event would crash the process (the pool listens only to idle ones).
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      const result = await fn(new ClientDb(client, this.#target));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A connection that cannot even roll back is closed rather than pooled again.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw err;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }
}

/**
 * Inside one transaction: every statement on its connection; atomic sections nest as
 * savepoints. Retryable failures pass through untranslated, for the transaction's owner
 * (PoolDb.atomic) to run it again.
 */
class ClientDb extends Statements {
  readonly #client: pg.PoolClient;
  readonly #target: Target;
  #depth = 0;

  constructor(client: pg.PoolClient, target: Target) {
    super();
    this.#client = client;
    this.#target = target;
  }

  protected async execute(sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> {
    try {
      return await this.#client.query<Row>(sql, params);
    } catch (err) {
      throw isRetryable(err) ? err : translate(err, this.#target);
    }
  }

  async atomic<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const savepoint = `s${++this.#depth}`;
    try {
      await this.execute(`SAVEPOINT ${savepoint}`, []);
      let result: T;
      try {
        result = await fn(this);
      } catch (err) {
        // Undone, and the transaction goes on (a failed statement alone would abort it).
        // If even this fails the connection is gone, and the transaction with it.
        await this.#client
          .query(`ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`)
          .catch(() => {});
        throw err;
      }
      await this.execute(`RELEASE SAVEPOINT ${savepoint}`, []);
      return result;
    } finally {
      this.#depth--;
    }
  }
}

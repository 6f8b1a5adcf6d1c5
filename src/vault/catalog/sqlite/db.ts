import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import { errnoCode } from '../../../errors/index.ts';

export type Row = Record<string, SQLOutputValue>;
export type Param = SQLInputValue;

/** SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (extended result codes). */
const UNIQUE_ERRCODES = new Set([2067, 1555]);

/**
 * One SQLite connection with its prepared statements cached by SQL text, and nested
 * atomic sections: the outermost is BEGIN IMMEDIATE (take the write lock at once, so
 * two processes never deadlock upgrading read locks), inner ones are savepoints.
 */
export class Db {
  readonly #raw: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #depth = 0;

  constructor(raw: DatabaseSync) {
    this.#raw = raw;
  }

  /** Returns the number of rows changed. */
  run(sql: string, ...params: Param[]): number {
    return Number(this.#statement(sql).run(...params).changes);
  }

  get(sql: string, ...params: Param[]): Row | undefined {
    return this.#statement(sql).get(...params);
  }

  all(sql: string, ...params: Param[]): Row[] {
    return this.#statement(sql).all(...params);
  }

  /** Several statements at once, uncached: schema changes and pragmas. */
  exec(sql: string): void {
    this.#raw.exec(sql);
  }

  atomic<T>(fn: () => T): T {
    this.begin();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.rollback();
      throw err;
    }
    this.commit();
    return result;
  }

  begin(): void {
    this.#raw.exec(this.#depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT s${this.#depth}`);
    this.#depth++;
  }

  commit(): void {
    this.#depth--;
    if (this.#depth > 0) {
      this.#raw.exec(`RELEASE s${this.#depth}`);
      return;
    }
    try {
      this.#raw.exec('COMMIT');
    } catch (err) {
      // A failed COMMIT (SQLITE_BUSY, disk full) leaves the transaction open.
      if (this.#raw.isTransaction) this.#raw.exec('ROLLBACK');
      throw err;
    }
  }

  rollback(): void {
    this.#depth--;
    if (this.#depth > 0) {
      this.#raw.exec(`ROLLBACK TO s${this.#depth}; RELEASE s${this.#depth}`);
    } else if (this.#raw.isTransaction) {
      // SQLite may already have rolled back by itself after some errors.
      this.#raw.exec('ROLLBACK');
    }
  }

  close(): void {
    this.#statements.clear();
    this.#raw.close();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#raw.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * The columns of the unique constraint an error broke ('servers.cert_fingerprint'), or
 * undefined for any other error.
 */
function uniqueViolation(err: unknown): string | undefined {
  if (errnoCode(err) !== 'ERR_SQLITE_ERROR') return undefined;
  const { errcode, message } = err as { errcode?: unknown; message: string };
  if (typeof errcode !== 'number' || !UNIQUE_ERRCODES.has(errcode)) return undefined;
  return message.replace(/^.*constraint failed: /, '');
}

/**
 * Runs a write; if it broke a unique constraint, throws what `duplicate` makes of the
 * constraint's columns instead (a ConflictError with the operation's own code).
 */
export function onDuplicate<T>(write: () => T, duplicate: (columns: string) => Error): T {
  try {
    return write();
  } catch (err) {
    const columns = uniqueViolation(err);
    if (columns !== undefined) throw duplicate(columns);
    throw err;
  }
}

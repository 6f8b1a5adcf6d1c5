import { IntegrityError } from '../../../errors/index.ts';

// Typed reads of result columns, for both drivers. node:sqlite gives INTEGER as a number
// (a bigint only with readBigInts), TEXT as a string and BLOB as a Uint8Array; pg gives
// BIGINT as a number when a double holds it and as text otherwise (../postgres/connect.ts),
// and BYTEA as a Buffer. A value of the wrong type means the database was changed behind
// our back: say so instead of passing garbage up.

/** A result row as either driver returns it. */
export type Row = Readonly<Record<string, unknown>>;

function damaged(column: string): IntegrityError {
  return new IntegrityError('CATALOG_CORRUPT', `catalog column ${column} holds a value of the wrong type`, {
    hint: 'restore the catalog from a backup, or rebuild it from storage',
  });
}

export function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw damaged(column);
  return value;
}

export function optStr(row: Row, column: string): string | null {
  return row[column] === null ? null : str(row, column);
}

/**
 * A number column. A bigint is taken when a double holds it exactly; text (what pg leaves
 * a BIGINT too large for a double) is refused, never parsed into a rounded number.
 */
export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' && Number.isSafeInteger(Number(value))) return Number(value);
  throw damaged(column);
}

export function optNum(row: Row, column: string): number | null {
  return row[column] === null ? null : num(row, column);
}

/** A plain Uint8Array of the caller's own: a Buffer (pg) is copied, so no pooled memory leaks out. */
export function bytes(row: Row, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw damaged(column);
  return Buffer.isBuffer(value) ? new Uint8Array(value) : value;
}

/** '' in a NOT NULL key column stands for "none" (see usage_history in ../migrations.ts). */
export function keyOrNull(row: Row, column: string): string | null {
  const value = str(row, column);
  return value === '' ? null : value;
}

import { IntegrityError } from '../../../errors/index.ts';
import type { Row } from './db.ts';

// Typed reads of result columns. A value of the wrong type means the file was edited or
// damaged behind our back; say so instead of passing garbage up.

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

export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw damaged(column);
  return value;
}

export function optNum(row: Row, column: string): number | null {
  return row[column] === null ? null : num(row, column);
}

export function bytes(row: Row, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw damaged(column);
  return value;
}

/** '' in a NOT NULL key column stands for "none" (see usage_history in ../migrations.ts). */
export function keyOrNull(row: Row, column: string): string | null {
  const value = str(row, column);
  return value === '' ? null : value;
}

import { ConflictError } from '../../../errors/index.ts';
import type { NewPack, PackRow } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The packs table as both backends see it: columns, rows as objects, checked input and the
// errors of its operations. The SQL that reads and writes it is each backend's own.

export const PACK_COLUMNS = 'server_id, seq, name, size, created_at, condemned_at, deleted_at';

export function toPack(row: Row): PackRow {
  return {
    serverId: str(row, 'server_id'),
    seq: num(row, 'seq'),
    name: str(row, 'name'),
    size: num(row, 'size'),
    createdAt: num(row, 'created_at'),
    condemnedAt: optNum(row, 'condemned_at'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

/** The checked fields of a new pack (its sequence number comes from the server's counter). */
export function newPack(input: NewPack) {
  return {
    name: check.text('name', input.name),
    size: check.whole('size', input.size),
    createdAt: check.whole('createdAt', input.createdAt),
  };
}

export function packExists(name: string): ConflictError {
  return new ConflictError('PACK_EXISTS', `pack ${name} is already recorded`);
}

/** The sequence numbers to change, checked, each once. */
export function distinctSeqs(seqs: readonly number[]): number[] {
  for (const seq of seqs) check.whole('seq', seq);
  return [...new Set(seqs)];
}

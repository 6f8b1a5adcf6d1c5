import { ConflictError } from '../../../errors/index.ts';
import type { NewPack, PackRow } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

const COLUMNS = 'server_id, seq, name, size, created_at, condemned_at, deleted_at';

function toPack(row: Row): PackRow {
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

export function recordPack(db: Db, input: NewPack): PackRow {
  const name = check.text('name', input.name);
  const size = check.whole('size', input.size);
  const createdAt = check.whole('createdAt', input.createdAt);
  return db.atomic(() => {
    // The counter lives on the server row, so a sequence number is never handed out twice
    // (not even after its pack row is gone) and a refused insert gives it back by rollback.
    const counter = db.get(
      'UPDATE servers SET next_pack_seq = next_pack_seq + 1 WHERE id = ? RETURNING next_pack_seq - 1 AS seq',
      input.serverId,
    );
    if (!counter) getServer(db, input.serverId);
    try {
      const row = db.get(
        `INSERT INTO packs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL) RETURNING ${COLUMNS}`,
        input.serverId,
        num(counter!, 'seq'),
        name,
        size,
        createdAt,
      );
      return toPack(row!);
    } catch (err) {
      if (uniqueViolation(err)) throw new ConflictError('PACK_EXISTS', `pack ${name} is already recorded`);
      throw err;
    }
  });
}

export function findPack(db: Db, serverId: string, name: string): PackRow | undefined {
  const row = db.get(
    `SELECT ${COLUMNS} FROM packs WHERE server_id = ? AND name = ?
     ORDER BY deleted_at IS NULL DESC, seq DESC LIMIT 1`,
    serverId,
    name,
  );
  return row && toPack(row);
}

export function listPacks(db: Db, serverId: string, includeDeleted: boolean): PackRow[] {
  getServer(db, serverId);
  const where = includeDeleted ? '' : 'AND deleted_at IS NULL';
  return db
    .all(`SELECT ${COLUMNS} FROM packs WHERE server_id = ? ${where} ORDER BY seq`, serverId)
    .map(toPack);
}

/** Runs one UPDATE per sequence number in one atomic step; returns the rows changed. */
function updateEach(
  db: Db,
  serverId: string,
  seqs: readonly number[],
  sql: string,
  ...head: number[]
): number {
  for (const seq of seqs) check.whole('seq', seq);
  return db.atomic(() => {
    getServer(db, serverId);
    let changed = 0;
    for (const seq of new Set(seqs)) changed += db.run(sql, ...head, serverId, seq);
    return changed;
  });
}

export function condemnPacks(db: Db, serverId: string, seqs: readonly number[], at: number): number {
  const sql = `UPDATE packs SET condemned_at = ?
    WHERE server_id = ? AND seq = ? AND condemned_at IS NULL AND deleted_at IS NULL`;
  return updateEach(db, serverId, seqs, sql, check.whole('at', at));
}

export function uncondemnPacks(db: Db, serverId: string, seqs: readonly number[]): number {
  const sql = `UPDATE packs SET condemned_at = NULL
    WHERE server_id = ? AND seq = ? AND condemned_at IS NOT NULL AND deleted_at IS NULL`;
  return updateEach(db, serverId, seqs, sql);
}

export function markPacksDeleted(db: Db, serverId: string, seqs: readonly number[], at: number): number {
  const sql = 'UPDATE packs SET deleted_at = ? WHERE server_id = ? AND seq = ? AND deleted_at IS NULL';
  return updateEach(db, serverId, seqs, sql, check.whole('at', at));
}

/** Sequence numbers handed out so far: every seq below it was recorded. */
export function nextPackSeq(db: Db, serverId: string): number {
  getServer(db, serverId);
  return num(db.get('SELECT next_pack_seq FROM servers WHERE id = ?', serverId)!, 'next_pack_seq');
}

export function deletedPackSeqs(db: Db, serverId: string): Set<number> {
  const rows = db.all('SELECT seq FROM packs WHERE server_id = ? AND deleted_at IS NOT NULL', serverId);
  return new Set(rows.map((row) => num(row, 'seq')));
}

export function vaultPackBytes(db: Db, vaultId: string): number {
  getVault(db, vaultId);
  const row = db.get(
    `SELECT COALESCE(SUM(p.size), 0) AS bytes FROM packs p JOIN servers s ON s.id = p.server_id
     WHERE s.vault_id = ? AND p.deleted_at IS NULL`,
    vaultId,
  );
  return num(row!, 'bytes');
}

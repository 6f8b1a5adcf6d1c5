import { num } from '../shared/columns.ts';
import { PACK_COLUMNS as COLUMNS, distinctSeqs, newPack, packExists, toPack } from '../shared/packs.ts';
import type { NewPack, PackRow } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

export function recordPack(db: Db, input: NewPack): PackRow {
  const { name, size, createdAt } = newPack(input);
  const sql = `INSERT INTO packs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(() => {
    // The counter lives on the server row, so a sequence number is never handed out twice
    // (not even after its pack row is gone) and a refused insert gives it back by rollback.
    const counter = db.get(
      'UPDATE servers SET next_pack_seq = next_pack_seq + 1 WHERE id = ? RETURNING next_pack_seq - 1 AS seq',
      input.serverId,
    );
    if (!counter) getServer(db, input.serverId);
    const insert = () => db.get(sql, input.serverId, num(counter!, 'seq'), name, size, createdAt)!;
    return toPack(onDuplicate(insert, () => packExists(name)));
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

export function listPacks(db: Db, serverId: string, options?: { includeDeleted?: boolean }): PackRow[] {
  getServer(db, serverId);
  const where = options?.includeDeleted ? '' : 'AND deleted_at IS NULL';
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
  const distinct = distinctSeqs(seqs);
  return db.atomic(() => {
    getServer(db, serverId);
    let changed = 0;
    for (const seq of distinct) changed += db.run(sql, ...head, serverId, seq);
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

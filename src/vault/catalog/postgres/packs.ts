import { num, optNum } from '../shared/columns.ts';
import { PACK_COLUMNS as COLUMNS, distinctSeqs, newPack, packExists, toPack } from '../shared/packs.ts';
import type { NewPack, PackRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { getServer } from './servers.ts';
import { getVault } from './vaults.ts';

export async function recordPack(db: Db, input: NewPack): Promise<PackRow> {
  const { name, size, createdAt } = newPack(input);
  const sql = `INSERT INTO packs (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(async (db) => {
    // The counter lives on the server row, so a sequence number is never handed out twice
    // (not even after its pack row is gone) and a refused insert gives it back by rollback.
    // Two instances bumping it at once: the row lock orders them, SERIALIZABLE reruns one.
    const counter = await db.get(
      'UPDATE servers SET next_pack_seq = next_pack_seq + 1 WHERE id = $1 RETURNING next_pack_seq - 1 AS seq',
      input.serverId,
    );
    if (!counter) await getServer(db, input.serverId);
    const insert = async () =>
      (await db.get(sql, input.serverId, num(counter!, 'seq'), name, size, createdAt))!;
    return toPack(await onDuplicate(insert, () => packExists(name)));
  });
}

export async function findPack(db: Db, serverId: string, name: string): Promise<PackRow | undefined> {
  const row = await db.get(
    `SELECT ${COLUMNS} FROM packs WHERE server_id = $1 AND name = $2
     ORDER BY deleted_at IS NULL DESC, seq DESC LIMIT 1`,
    serverId,
    name,
  );
  return row && toPack(row);
}

export async function listPacks(
  db: Db,
  serverId: string,
  options?: { includeDeleted?: boolean },
): Promise<PackRow[]> {
  await getServer(db, serverId);
  const where = options?.includeDeleted ? '' : 'AND deleted_at IS NULL';
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM packs WHERE server_id = $1 ${where} ORDER BY seq`,
    serverId,
  );
  return rows.map(toPack);
}

/**
 * Runs one UPDATE over the given sequence numbers ($1 the server, $2 the numbers, then
 * `rest`) in one atomic step; returns the packs changed.
 */
async function updateSeqs(
  db: Db,
  serverId: string,
  seqs: readonly number[],
  sql: string,
  ...rest: number[]
): Promise<number> {
  const distinct = distinctSeqs(seqs);
  return db.atomic(async (db) => {
    await getServer(db, serverId);
    return db.run(sql, serverId, distinct, ...rest);
  });
}

export async function condemnPacks(
  db: Db,
  serverId: string,
  seqs: readonly number[],
  at: number,
): Promise<number> {
  const sql = `UPDATE packs SET condemned_at = $3
    WHERE server_id = $1 AND seq = ANY($2::bigint[]) AND condemned_at IS NULL AND deleted_at IS NULL`;
  return updateSeqs(db, serverId, seqs, sql, check.whole('at', at));
}

export async function uncondemnPacks(db: Db, serverId: string, seqs: readonly number[]): Promise<number> {
  const sql = `UPDATE packs SET condemned_at = NULL
    WHERE server_id = $1 AND seq = ANY($2::bigint[]) AND condemned_at IS NOT NULL AND deleted_at IS NULL`;
  return updateSeqs(db, serverId, seqs, sql);
}

export async function markPacksDeleted(
  db: Db,
  serverId: string,
  seqs: readonly number[],
  at: number,
): Promise<number> {
  const sql = `UPDATE packs SET deleted_at = $3
    WHERE server_id = $1 AND seq = ANY($2::bigint[]) AND deleted_at IS NULL`;
  return updateSeqs(db, serverId, seqs, sql, check.whole('at', at));
}

/** Sequence numbers handed out so far: every seq below it was recorded. */
export async function nextPackSeq(db: Db, serverId: string): Promise<number> {
  await getServer(db, serverId);
  return num((await db.get('SELECT next_pack_seq FROM servers WHERE id = $1', serverId))!, 'next_pack_seq');
}

/** The smallest of these sequence numbers whose pack is deleted, if any. */
export async function firstDeletedPack(
  db: Db,
  serverId: string,
  seqs: readonly number[],
): Promise<number | null> {
  const row = await db.get(
    'SELECT MIN(seq) AS seq FROM packs WHERE server_id = $1 AND seq = ANY($2::bigint[]) AND deleted_at IS NOT NULL',
    serverId,
    seqs,
  );
  return optNum(row!, 'seq');
}

export async function vaultPackBytes(db: Db, vaultId: string): Promise<number> {
  await getVault(db, vaultId);
  const row = await db.get(
    `SELECT COALESCE(SUM(p.size), 0)::bigint AS bytes FROM packs p JOIN servers s ON s.id = p.server_id
     WHERE s.vault_id = $1 AND p.deleted_at IS NULL`,
    vaultId,
  );
  return num(row!, 'bytes');
}

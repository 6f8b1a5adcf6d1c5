import * as shared from '../shared/vaults.ts';
import type { NewVault, VaultChanges, VaultRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';

const COLUMNS = shared.VAULT_COLUMNS;

export async function createVault(db: Db, input: NewVault): Promise<VaultRow> {
  const values = shared.newVaultValues(input);
  const sql = `INSERT INTO vaults (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9) RETURNING ${COLUMNS}`;
  return shared.toVault(
    await onDuplicate(
      async () => (await db.get(sql, ...values))!,
      () => shared.vaultExists(values[1]),
    ),
  );
}

export async function findVault(db: Db, id: string): Promise<VaultRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM vaults WHERE id = $1`, id);
  return row && shared.toVault(row);
}

export async function getVault(db: Db, id: string): Promise<VaultRow> {
  const vault = await findVault(db, id);
  if (!vault) throw shared.vaultNotFound(id);
  return vault;
}

/** For writes that give access to a vault or change it: a soft-deleted vault refuses them. */
export async function getLiveVault(db: Db, id: string): Promise<VaultRow> {
  return shared.notDeleted(await getVault(db, id));
}

export async function getVaultByName(db: Db, name: string): Promise<VaultRow> {
  const row = await db.get(`SELECT ${COLUMNS} FROM vaults WHERE name = $1`, name);
  if (!row) throw shared.vaultNameNotFound(name);
  return shared.toVault(row);
}

export async function listVaults(db: Db, options?: { includeDeleted?: boolean }): Promise<VaultRow[]> {
  const where = options?.includeDeleted ? '' : 'WHERE deleted_at IS NULL';
  return (await db.all(`SELECT ${COLUMNS} FROM vaults ${where} ORDER BY name COLLATE "C"`)).map(
    shared.toVault,
  );
}

export async function updateVault(db: Db, id: string, changes: VaultChanges): Promise<VaultRow> {
  return db.atomic(async (db) => {
    const vault = await getLiveVault(db, id);
    const values = shared.changedVaultValues(vault, changes);
    const row = await db.get(
      `UPDATE vaults SET quota_bytes = $1, soft_delete_days = $2, immutable = $3, policy = $4,
       secondary_region = $5, region = $6 WHERE id = $7 RETURNING ${COLUMNS}`,
      ...values,
      shared.changedVaultRegion(vault, changes),
      id,
    );
    return shared.toVault(row!);
  });
}

export async function deleteVault(db: Db, id: string, at: number): Promise<VaultRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    const vault = await getVault(db, id);
    if (vault.deletedAt !== null) return vault;
    return shared.toVault(
      (await db.get(`UPDATE vaults SET deleted_at = $1 WHERE id = $2 RETURNING ${COLUMNS}`, at, id))!,
    );
  });
}

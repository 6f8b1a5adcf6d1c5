import * as shared from '../shared/vaults.ts';
import type { NewVault, VaultChanges, VaultRow } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';

const COLUMNS = shared.VAULT_COLUMNS;

export function createVault(db: Db, input: NewVault): VaultRow {
  const values = shared.newVaultValues(input);
  const sql = `INSERT INTO vaults (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) RETURNING ${COLUMNS}`;
  return shared.toVault(
    onDuplicate(
      () => db.get(sql, ...values)!,
      () => shared.vaultExists(values[1]),
    ),
  );
}

export function findVault(db: Db, id: string): VaultRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM vaults WHERE id = ?`, id);
  return row && shared.toVault(row);
}

export function getVault(db: Db, id: string): VaultRow {
  const vault = findVault(db, id);
  if (!vault) throw shared.vaultNotFound(id);
  return vault;
}

/** For writes that give access to a vault or change it: a soft-deleted vault refuses them. */
export function getLiveVault(db: Db, id: string): VaultRow {
  return shared.notDeleted(getVault(db, id));
}

export function getVaultByName(db: Db, name: string): VaultRow {
  const row = db.get(`SELECT ${COLUMNS} FROM vaults WHERE name = ?`, name);
  if (!row) throw shared.vaultNameNotFound(name);
  return shared.toVault(row);
}

export function listVaults(db: Db, options?: { includeDeleted?: boolean }): VaultRow[] {
  const where = options?.includeDeleted ? '' : 'WHERE deleted_at IS NULL';
  return db.all(`SELECT ${COLUMNS} FROM vaults ${where} ORDER BY name`).map(shared.toVault);
}

export function updateVault(db: Db, id: string, changes: VaultChanges): VaultRow {
  return db.atomic(() => {
    const vault = getLiveVault(db, id);
    const values = shared.changedVaultValues(vault, changes);
    const row = db.get(
      `UPDATE vaults SET quota_bytes = ?, soft_delete_days = ?, immutable = ?, policy = ?,
       secondary_region = ?, region = ? WHERE id = ? RETURNING ${COLUMNS}`,
      ...values,
      shared.changedVaultRegion(vault, changes),
      id,
    );
    return shared.toVault(row!);
  });
}

export function deleteVault(db: Db, id: string, at: number): VaultRow {
  check.whole('at', at);
  return db.atomic(() => {
    const vault = getVault(db, id);
    if (vault.deletedAt !== null) return vault;
    return shared.toVault(
      db.get(`UPDATE vaults SET deleted_at = ? WHERE id = ? RETURNING ${COLUMNS}`, at, id)!,
    );
  });
}

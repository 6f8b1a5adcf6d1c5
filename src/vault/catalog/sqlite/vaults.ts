import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewVault, VaultChanges, VaultRow } from '../types.ts';
import { DEFAULT_SOFT_DELETE_DAYS } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';

const COLUMNS = 'id, name, region, quota_bytes, soft_delete_days, immutable, policy, created_at, deleted_at';

function toVault(row: Row): VaultRow {
  const policy = optStr(row, 'policy');
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    region: str(row, 'region'),
    quotaBytes: optNum(row, 'quota_bytes'),
    softDeleteDays: num(row, 'soft_delete_days'),
    immutable: num(row, 'immutable') === 1,
    policy: policy === null ? null : check.parseObject(policy),
    createdAt: num(row, 'created_at'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

export function createVault(db: Db, input: NewVault): VaultRow {
  const name = check.text('name', input.name);
  const values = [
    check.idOrNew(input.id),
    name,
    check.text('region', input.region),
    check.quota(input.quotaBytes ?? null),
    check.softDeleteDays(input.softDeleteDays ?? DEFAULT_SOFT_DELETE_DAYS),
    check.boolean('immutable', input.immutable ?? false) ? 1 : 0,
    check.optionalJsonObject('policy', input.policy ?? null),
    check.whole('createdAt', input.createdAt),
  ];
  try {
    const row = db.get(
      `INSERT INTO vaults (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`,
      ...values,
    );
    return toVault(row!);
  } catch (err) {
    if (uniqueViolation(err))
      throw new ConflictError('VAULT_EXISTS', `a vault named "${name}" already exists`);
    throw err;
  }
}

export function findVault(db: Db, id: string): VaultRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM vaults WHERE id = ?`, id);
  return row && toVault(row);
}

export function getVault(db: Db, id: string): VaultRow {
  const vault = findVault(db, id);
  if (!vault) throw new NotFoundError('VAULT_NOT_FOUND', `no vault with id ${id}`);
  return vault;
}

/** For writes that give access to a vault or change it: a soft-deleted vault refuses them. */
export function getLiveVault(db: Db, id: string): VaultRow {
  const vault = getVault(db, id);
  if (vault.deletedAt !== null) {
    throw new ConflictError('VAULT_DELETED', `vault "${vault.name}" is deleted`);
  }
  return vault;
}

export function getVaultByName(db: Db, name: string): VaultRow {
  const row = db.get(`SELECT ${COLUMNS} FROM vaults WHERE name = ?`, name);
  if (!row) throw new NotFoundError('VAULT_NOT_FOUND', `no vault named "${name}"`);
  return toVault(row);
}

export function listVaults(db: Db, includeDeleted: boolean): VaultRow[] {
  const where = includeDeleted ? '' : 'WHERE deleted_at IS NULL';
  return db.all(`SELECT ${COLUMNS} FROM vaults ${where} ORDER BY name`).map(toVault);
}

export function updateVault(db: Db, id: string, changes: VaultChanges): VaultRow {
  return db.atomic(() => {
    const vault = getLiveVault(db, id);
    const row = db.get(
      `UPDATE vaults SET quota_bytes = ?, soft_delete_days = ?, immutable = ?, policy = ?
       WHERE id = ? RETURNING ${COLUMNS}`,
      check.quota(changes.quotaBytes === undefined ? vault.quotaBytes : changes.quotaBytes),
      check.softDeleteDays(changes.softDeleteDays ?? vault.softDeleteDays),
      check.boolean('immutable', changes.immutable ?? vault.immutable) ? 1 : 0,
      check.optionalJsonObject('policy', changes.policy === undefined ? vault.policy : changes.policy),
      id,
    );
    return toVault(row!);
  });
}

export function deleteVault(db: Db, id: string, at: number): VaultRow {
  check.whole('at', at);
  return db.atomic(() => {
    const vault = getVault(db, id);
    if (vault.deletedAt !== null) return vault;
    return toVault(db.get(`UPDATE vaults SET deleted_at = ? WHERE id = ? RETURNING ${COLUMNS}`, at, id)!);
  });
}

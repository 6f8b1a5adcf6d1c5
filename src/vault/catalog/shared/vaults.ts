import { BadInputError, ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewVault, VaultChanges, VaultRow } from '../types.ts';
import { DEFAULT_SOFT_DELETE_DAYS } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The vaults table as both backends see it: columns, rows as objects, checked input and
// the errors of its operations. The SQL that reads and writes it is each backend's own.

export const VAULT_COLUMNS =
  'id, name, region, quota_bytes, soft_delete_days, immutable, policy, created_at, deleted_at, secondary_region';

export function toVault(row: Row): VaultRow {
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
    secondaryRegion: optStr(row, 'secondary_region'),
  };
}

/** A secondary region is another region than the vault's own (or null: none). */
function secondaryRegion(value: unknown, region: string): string | null {
  if (value === null) return null;
  const secondary = check.text('secondaryRegion', value);
  if (secondary === region) {
    throw new BadInputError('BAD_FIELD', 'secondaryRegion: must differ from the region of the vault');
  }
  return secondary;
}

/** The checked values of a new vault, in VAULT_COLUMNS order (deleted_at left out: null). */
export function newVaultValues(input: NewVault) {
  const name = check.text('name', input.name);
  const region = check.text('region', input.region);
  return [
    check.idOrNew(input.id),
    name,
    region,
    check.quota(input.quotaBytes ?? null),
    check.softDeleteDays(input.softDeleteDays ?? DEFAULT_SOFT_DELETE_DAYS),
    check.boolean('immutable', input.immutable ?? false) ? 1 : 0,
    check.optionalJsonObject('policy', input.policy ?? null),
    check.whole('createdAt', input.createdAt),
    secondaryRegion(input.secondaryRegion ?? null, region),
  ] as const;
}

/** quota_bytes, soft_delete_days, immutable, policy and secondary_region after the changes, checked. */
export function changedVaultValues(vault: VaultRow, changes: VaultChanges) {
  return [
    check.quota(changes.quotaBytes === undefined ? vault.quotaBytes : changes.quotaBytes),
    check.softDeleteDays(changes.softDeleteDays ?? vault.softDeleteDays),
    check.boolean('immutable', changes.immutable ?? vault.immutable) ? 1 : 0,
    check.optionalJsonObject('policy', changes.policy === undefined ? vault.policy : changes.policy),
    secondaryRegion(
      changes.secondaryRegion === undefined ? vault.secondaryRegion : changes.secondaryRegion,
      changedVaultRegion(vault, changes),
    ),
  ] as const;
}

/** The region after the changes, checked (the secondary is checked against it). */
export function changedVaultRegion(vault: VaultRow, changes: VaultChanges): string {
  return changes.region === undefined ? vault.region : check.text('region', changes.region);
}

export function vaultExists(name: string): ConflictError {
  return new ConflictError('VAULT_EXISTS', `a vault named "${name}" already exists`);
}

export function vaultNotFound(id: string): NotFoundError {
  return new NotFoundError('VAULT_NOT_FOUND', `no vault with id ${id}`);
}

export function vaultNameNotFound(name: string): NotFoundError {
  return new NotFoundError('VAULT_NOT_FOUND', `no vault named "${name}"`);
}

/** For writes that give access to a vault or change it: a soft-deleted vault refuses them. */
export function notDeleted(vault: VaultRow): VaultRow {
  if (vault.deletedAt !== null) {
    throw new ConflictError('VAULT_DELETED', `vault "${vault.name}" is deleted`);
  }
  return vault;
}

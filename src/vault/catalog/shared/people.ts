import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewToken, NewUser, TokenRow, UserChanges, UserRow } from '../types.ts';
import { ROLES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The users and api_tokens tables as both backends see them: columns, rows as objects,
// checked input and the errors of their operations. The SQL that reads and writes them is
// each backend's own.

export const USER_COLUMNS = 'id, name, password_hash, role, created_at';
export const TOKEN_COLUMNS =
  'id, token_hash, name, role, vault_id, created_at, expires_at, revoked_at, user_id';

export function toUser(row: Row): UserRow {
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    passwordHash: str(row, 'password_hash'),
    role: check.oneOf('role', str(row, 'role'), ROLES),
    createdAt: num(row, 'created_at'),
  };
}

export function toToken(row: Row): TokenRow {
  return {
    id: str(row, 'id'),
    tokenHash: str(row, 'token_hash'),
    name: str(row, 'name'),
    role: check.oneOf('role', str(row, 'role'), ROLES),
    vaultId: optStr(row, 'vault_id'),
    createdAt: num(row, 'created_at'),
    expiresAt: optNum(row, 'expires_at'),
    revokedAt: optNum(row, 'revoked_at'),
    userId: optStr(row, 'user_id'),
  };
}

/** The checked values of a new user, in USER_COLUMNS order. */
export function newUserValues(input: NewUser) {
  return [
    randomUUID(),
    check.text('name', input.name),
    check.longText('passwordHash', input.passwordHash),
    check.oneOf('role', input.role, ROLES),
    check.whole('createdAt', input.createdAt),
  ] as const;
}

/** password_hash and role after the changes, checked. */
export function changedUserValues(user: UserRow, changes: UserChanges) {
  return [
    check.longText('passwordHash', changes.passwordHash ?? user.passwordHash),
    check.oneOf('role', changes.role ?? user.role, ROLES),
  ] as const;
}

export function userExists(name: string): ConflictError {
  return new ConflictError('USER_EXISTS', `a user named "${name}" already exists`);
}

export function userNotFound(id: string): NotFoundError {
  return new NotFoundError('USER_NOT_FOUND', `no user with id ${id}`);
}

/** The checked values of a new token, in TOKEN_COLUMNS order but revoked_at (NULL). */
export function newTokenValues(input: NewToken) {
  const createdAt = check.whole('createdAt', input.createdAt);
  const expiresAt = check.optionalWhole('expiresAt', input.expiresAt);
  if (expiresAt !== null) check.after('expiresAt', expiresAt, createdAt);
  return [
    randomUUID(),
    check.text('tokenHash', input.tokenHash),
    check.text('name', input.name),
    check.oneOf('role', input.role, ROLES),
    input.vaultId,
    createdAt,
    expiresAt,
    input.userId ?? null,
  ] as const;
}

export function tokenExists(): ConflictError {
  return new ConflictError('TOKEN_EXISTS', 'a token with this hash already exists');
}

export function tokenNotFound(id: string): NotFoundError {
  return new NotFoundError('TOKEN_NOT_FOUND', `no API token with id ${id}`);
}

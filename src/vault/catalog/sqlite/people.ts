import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewToken, NewUser, TokenRow, UserChanges, UserRow } from '../types.ts';
import { ROLES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const USER_COLUMNS = 'id, name, password_hash, role, created_at';
const TOKEN_COLUMNS = 'id, token_hash, name, role, vault_id, created_at, expires_at, revoked_at, user_id';

function toUser(row: Row): UserRow {
  return {
    id: str(row, 'id'),
    name: str(row, 'name'),
    passwordHash: str(row, 'password_hash'),
    role: check.oneOf('role', str(row, 'role'), ROLES),
    createdAt: num(row, 'created_at'),
  };
}

function toToken(row: Row): TokenRow {
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

export function createUser(db: Db, input: NewUser): UserRow {
  const name = check.text('name', input.name);
  try {
    const row = db.get(
      `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS}`,
      randomUUID(),
      name,
      check.longText('passwordHash', input.passwordHash),
      check.oneOf('role', input.role, ROLES),
      check.whole('createdAt', input.createdAt),
    );
    return toUser(row!);
  } catch (err) {
    if (uniqueViolation(err)) throw new ConflictError('USER_EXISTS', `a user named "${name}" already exists`);
    throw err;
  }
}

export function getUser(db: Db, id: string): UserRow {
  const row = db.get(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, id);
  if (!row) throw new NotFoundError('USER_NOT_FOUND', `no user with id ${id}`);
  return toUser(row);
}

export function findUserByName(db: Db, name: string): UserRow | undefined {
  const row = db.get(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`, name);
  return row && toUser(row);
}

export function listUsers(db: Db): UserRow[] {
  return db.all(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).map(toUser);
}

export function updateUser(db: Db, id: string, changes: UserChanges): UserRow {
  return db.atomic(() => {
    const user = getUser(db, id);
    const row = db.get(
      `UPDATE users SET password_hash = ?, role = ? WHERE id = ? RETURNING ${USER_COLUMNS}`,
      check.longText('passwordHash', changes.passwordHash ?? user.passwordHash),
      check.oneOf('role', changes.role ?? user.role, ROLES),
      id,
    );
    return toUser(row!);
  });
}

export function createToken(db: Db, input: NewToken): TokenRow {
  const createdAt = check.whole('createdAt', input.createdAt);
  const expiresAt = check.optionalWhole('expiresAt', input.expiresAt);
  if (expiresAt !== null) check.after('expiresAt', expiresAt, createdAt);
  const values = [
    randomUUID(),
    check.text('tokenHash', input.tokenHash),
    check.text('name', input.name),
    check.oneOf('role', input.role, ROLES),
    input.vaultId,
    createdAt,
    expiresAt,
    input.userId ?? null,
  ];
  return db.atomic(() => {
    if (input.vaultId !== null) getLiveVault(db, input.vaultId);
    if (input.userId != null) getUser(db, input.userId);
    try {
      const row = db.get(
        `INSERT INTO api_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?) RETURNING ${TOKEN_COLUMNS}`,
        ...values,
      );
      return toToken(row!);
    } catch (err) {
      if (uniqueViolation(err))
        throw new ConflictError('TOKEN_EXISTS', 'a token with this hash already exists');
      throw err;
    }
  });
}

export function findToken(db: Db, tokenHash: string, now: number): TokenRow | undefined {
  check.whole('now', now);
  const row = db.get(
    `SELECT ${TOKEN_COLUMNS} FROM api_tokens
     WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
    tokenHash,
    now,
  );
  return row && toToken(row);
}

export function listTokens(db: Db, vaultId: string | undefined): TokenRow[] {
  const order = 'ORDER BY created_at, id';
  if (vaultId === undefined) return db.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ${order}`).map(toToken);
  getVault(db, vaultId);
  return db.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE vault_id = ? ${order}`, vaultId).map(toToken);
}

export function revokeToken(db: Db, id: string, at: number): TokenRow {
  check.whole('at', at);
  return db.atomic(() => {
    const row = db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, id);
    if (!row) throw new NotFoundError('TOKEN_NOT_FOUND', `no API token with id ${id}`);
    db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id);
    return toToken(db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, id)!);
  });
}

export function revokeUserTokens(db: Db, userId: string, at: number): number {
  check.whole('at', at);
  return db.atomic(() => {
    getUser(db, userId);
    return db.run(
      `UPDATE api_tokens SET revoked_at = ?
       WHERE user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
      at,
      userId,
      at,
    );
  });
}

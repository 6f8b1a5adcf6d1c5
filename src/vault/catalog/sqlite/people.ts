import * as shared from '../shared/people.ts';
import type { NewToken, NewUser, TokenRow, UserChanges, UserRow } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const TOKEN_COLUMNS = shared.TOKEN_COLUMNS;
const USER_COLUMNS = shared.USER_COLUMNS;

export function createUser(db: Db, input: NewUser): UserRow {
  const values = shared.newUserValues(input);
  const sql = `INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS}`;
  return shared.toUser(
    onDuplicate(
      () => db.get(sql, ...values)!,
      () => shared.userExists(values[1]),
    ),
  );
}

export function getUser(db: Db, id: string): UserRow {
  const row = db.get(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, id);
  if (!row) throw shared.userNotFound(id);
  return shared.toUser(row);
}

export function findUserByName(db: Db, name: string): UserRow | undefined {
  const row = db.get(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`, name);
  return row && shared.toUser(row);
}

export function listUsers(db: Db): UserRow[] {
  return db.all(`SELECT ${USER_COLUMNS} FROM users ORDER BY name`).map(shared.toUser);
}

export function updateUser(db: Db, id: string, changes: UserChanges): UserRow {
  return db.atomic(() => {
    const values = shared.changedUserValues(getUser(db, id), changes);
    const row = db.get(
      `UPDATE users SET password_hash = ?, role = ? WHERE id = ? RETURNING ${USER_COLUMNS}`,
      ...values,
      id,
    );
    return shared.toUser(row!);
  });
}

export function createToken(db: Db, input: NewToken): TokenRow {
  const values = shared.newTokenValues(input);
  const sql = `INSERT INTO api_tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?) RETURNING ${TOKEN_COLUMNS}`;
  return db.atomic(() => {
    if (input.vaultId !== null) getLiveVault(db, input.vaultId);
    if (input.userId != null) getUser(db, input.userId);
    return shared.toToken(onDuplicate(() => db.get(sql, ...values)!, shared.tokenExists));
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
  return row && shared.toToken(row);
}

export function listTokens(db: Db, options?: { vaultId?: string }): TokenRow[] {
  const vaultId = options?.vaultId;
  const order = 'ORDER BY created_at, id';
  if (vaultId === undefined)
    return db.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ${order}`).map(shared.toToken);
  getVault(db, vaultId);
  return db
    .all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE vault_id = ? ${order}`, vaultId)
    .map(shared.toToken);
}

export function revokeToken(db: Db, id: string, at: number): TokenRow {
  check.whole('at', at);
  return db.atomic(() => {
    const row = db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, id);
    if (!row) throw shared.tokenNotFound(id);
    db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id);
    return shared.toToken(db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`, id)!);
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

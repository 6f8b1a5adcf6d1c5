import * as shared from '../shared/people.ts';
import type { NewToken, NewUser, TokenRow, UserChanges, UserRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { getLiveVault, getVault } from './vaults.ts';

const TOKEN_COLUMNS = shared.TOKEN_COLUMNS;
const USER_COLUMNS = shared.USER_COLUMNS;

export async function createUser(db: Db, input: NewUser): Promise<UserRow> {
  const values = shared.newUserValues(input);
  const sql = `INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5) RETURNING ${USER_COLUMNS}`;
  return shared.toUser(
    await onDuplicate(
      async () => (await db.get(sql, ...values))!,
      () => shared.userExists(values[1]),
    ),
  );
}

export async function getUser(db: Db, id: string): Promise<UserRow> {
  const row = await db.get(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, id);
  if (!row) throw shared.userNotFound(id);
  return shared.toUser(row);
}

export async function findUserByName(db: Db, name: string): Promise<UserRow | undefined> {
  const row = await db.get(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, name);
  return row && shared.toUser(row);
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return (await db.all(`SELECT ${USER_COLUMNS} FROM users ORDER BY name COLLATE "C"`)).map(shared.toUser);
}

export async function updateUser(db: Db, id: string, changes: UserChanges): Promise<UserRow> {
  return db.atomic(async (db) => {
    const values = shared.changedUserValues(await getUser(db, id), changes);
    const row = await db.get(
      `UPDATE users SET password_hash = $1, role = $2 WHERE id = $3 RETURNING ${USER_COLUMNS}`,
      ...values,
      id,
    );
    return shared.toUser(row!);
  });
}

export async function createToken(db: Db, input: NewToken): Promise<TokenRow> {
  const values = shared.newTokenValues(input);
  const sql = `INSERT INTO api_tokens (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)
    RETURNING ${TOKEN_COLUMNS}`;
  return db.atomic(async (db) => {
    if (input.vaultId !== null) await getLiveVault(db, input.vaultId);
    if (input.userId != null) await getUser(db, input.userId);
    return shared.toToken(await onDuplicate(async () => (await db.get(sql, ...values))!, shared.tokenExists));
  });
}

export async function findToken(db: Db, tokenHash: string, now: number): Promise<TokenRow | undefined> {
  check.whole('now', now);
  const row = await db.get(
    `SELECT ${TOKEN_COLUMNS} FROM api_tokens
     WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
    tokenHash,
    now,
  );
  return row && shared.toToken(row);
}

export async function listTokens(db: Db, options?: { vaultId?: string }): Promise<TokenRow[]> {
  const vaultId = options?.vaultId;
  const order = 'ORDER BY created_at, id COLLATE "C"';
  if (vaultId === undefined)
    return (await db.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ${order}`)).map(shared.toToken);
  await getVault(db, vaultId);
  const rows = await db.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE vault_id = $1 ${order}`, vaultId);
  return rows.map(shared.toToken);
}

export async function revokeToken(db: Db, id: string, at: number): Promise<TokenRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    const row = await db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`, id);
    if (!row) throw shared.tokenNotFound(id);
    await db.run('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', at, id);
    return shared.toToken((await db.get(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`, id))!);
  });
}

export async function revokeUserTokens(db: Db, userId: string, at: number): Promise<number> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    await getUser(db, userId);
    return db.run(
      `UPDATE api_tokens SET revoked_at = $1
       WHERE user_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
      at,
      userId,
    );
  });
}

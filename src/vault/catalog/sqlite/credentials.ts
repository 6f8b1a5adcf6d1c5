import { randomUUID } from 'node:crypto';
import { AuthError, ConflictError } from '../../../errors/index.ts';
import type { CredentialsRow, NewCredentials } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';
import { getLiveVault } from './vaults.ts';

const COLUMNS = 'id, vault_id, secret_hash, issued_at, expires_at, used_at, superseded_at';
const NEW_FILE_HINT = 'download a new vault credentials file from the console or with the CLI';

function toCredentials(row: Row): CredentialsRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    secretHash: str(row, 'secret_hash'),
    issuedAt: num(row, 'issued_at'),
    expiresAt: num(row, 'expires_at'),
    usedAt: optNum(row, 'used_at'),
    supersededAt: optNum(row, 'superseded_at'),
  };
}

export function issueCredentials(db: Db, input: NewCredentials): CredentialsRow {
  const secretHash = check.text('secretHash', input.secretHash);
  const issuedAt = check.whole('issuedAt', input.issuedAt);
  const expiresAt = check.after('expiresAt', check.whole('expiresAt', input.expiresAt), issuedAt);
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    // Only the newest file is valid: issuing retires every earlier one in the same step.
    // BEGIN IMMEDIATE serialises two issuers here; PostgreSQL must lock the vault row.
    db.run(
      'UPDATE credentials SET superseded_at = ? WHERE vault_id = ? AND superseded_at IS NULL',
      issuedAt,
      input.vaultId,
    );
    try {
      const row = db.get(
        `INSERT INTO credentials (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL) RETURNING ${COLUMNS}`,
        randomUUID(),
        input.vaultId,
        secretHash,
        issuedAt,
        expiresAt,
      );
      return toCredentials(row!);
    } catch (err) {
      if (uniqueViolation(err))
        throw new ConflictError('CREDENTIALS_EXISTS', 'these credentials were issued before');
      throw err;
    }
  });
}

export function consumeCredentials(db: Db, secretHash: string, now: number): CredentialsRow {
  check.whole('now', now);
  // One statement decides and marks, so two agents racing with one file cannot both win.
  const row = db.get(
    `UPDATE credentials SET used_at = ?
     WHERE secret_hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?
     RETURNING ${COLUMNS}`,
    now,
    secretHash,
    now,
  );
  if (row) return toCredentials(row);
  const known = db.get(`SELECT ${COLUMNS} FROM credentials WHERE secret_hash = ?`, secretHash);
  throw refusal(known && toCredentials(known), now);
}

/** Why a file was refused, the most useful reason first when several apply. */
function refusal(credentials: CredentialsRow | undefined, now: number): AuthError {
  if (!credentials) {
    return new AuthError('CREDENTIALS_UNKNOWN', 'these vault credentials are not known to this vault', {
      hint: NEW_FILE_HINT,
    });
  }
  if (credentials.usedAt !== null) {
    return new AuthError(
      'CREDENTIALS_USED',
      'these vault credentials were already used to register a server',
      {
        hint: `a credentials file registers one server; ${NEW_FILE_HINT}`,
      },
    );
  }
  if (credentials.supersededAt !== null) {
    return new AuthError(
      'CREDENTIALS_SUPERSEDED',
      'a newer vault credentials file was issued for this vault',
      {
        hint: `only the newest file is valid: use it, or ${NEW_FILE_HINT}`,
      },
    );
  }
  const expired = new Date(credentials.expiresAt).toISOString();
  return new AuthError('CREDENTIALS_EXPIRED', `these vault credentials expired at ${expired}`, {
    hint: `${NEW_FILE_HINT} (now is ${new Date(now).toISOString()})`,
  });
}

import { randomUUID } from 'node:crypto';
import * as shared from '../shared/credentials.ts';
import type { CredentialsRow, NewCredentials } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { getLiveVault } from './vaults.ts';

const COLUMNS = shared.CREDENTIALS_COLUMNS;

export function issueCredentials(db: Db, input: NewCredentials): CredentialsRow {
  const { secretHash, issuedAt, expiresAt } = shared.newCredentials(input);
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    // Only the newest file is valid: issuing retires every earlier one in the same step.
    // BEGIN IMMEDIATE serialises two issuers here.
    db.run(
      'UPDATE credentials SET superseded_at = ? WHERE vault_id = ? AND superseded_at IS NULL',
      issuedAt,
      input.vaultId,
    );
    const sql = `INSERT INTO credentials (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL) RETURNING ${COLUMNS}`;
    const insert = () => db.get(sql, randomUUID(), input.vaultId, secretHash, issuedAt, expiresAt)!;
    return shared.toCredentials(onDuplicate(insert, shared.credentialsExist));
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
  if (row) return shared.toCredentials(row);
  const known = db.get(`SELECT ${COLUMNS} FROM credentials WHERE secret_hash = ?`, secretHash);
  throw shared.refusal(known && shared.toCredentials(known), now);
}

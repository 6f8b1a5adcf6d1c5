import { randomUUID } from 'node:crypto';
import * as shared from '../shared/credentials.ts';
import type { CredentialsRow, NewCredentials } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { getLiveVault } from './vaults.ts';

const COLUMNS = shared.CREDENTIALS_COLUMNS;

export async function issueCredentials(db: Db, input: NewCredentials): Promise<CredentialsRow> {
  const { secretHash, issuedAt, expiresAt } = shared.newCredentials(input);
  return db.atomic(async (db) => {
    await getLiveVault(db, input.vaultId);
    // Only the newest file is valid: issuing retires every earlier one in the same step.
    // Two issuers at once (two instances) cannot both stay valid: SERIALIZABLE refuses
    // one of them, which then runs again and retires the other's file.
    await db.run(
      'UPDATE credentials SET superseded_at = $1 WHERE vault_id = $2 AND superseded_at IS NULL',
      issuedAt,
      input.vaultId,
    );
    const sql = `INSERT INTO credentials (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL) RETURNING ${COLUMNS}`;
    const insert = async () =>
      (await db.get(sql, randomUUID(), input.vaultId, secretHash, issuedAt, expiresAt))!;
    return shared.toCredentials(await onDuplicate(insert, shared.credentialsExist));
  });
}

export async function consumeCredentials(db: Db, secretHash: string, now: number): Promise<CredentialsRow> {
  check.whole('now', now);
  // One statement decides and marks, so two agents racing with one file cannot both win,
  // whichever instance each reaches.
  const row = await db.get(
    `UPDATE credentials SET used_at = $1
     WHERE secret_hash = $2 AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $1
     RETURNING ${COLUMNS}`,
    now,
    secretHash,
  );
  if (row) return shared.toCredentials(row);
  const known = await db.get(`SELECT ${COLUMNS} FROM credentials WHERE secret_hash = $1`, secretHash);
  throw shared.refusal(known && shared.toCredentials(known), now);
}

import { AuthError, ConflictError } from '../../../errors/index.ts';
import type { CredentialsRow, NewCredentials } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The credentials table (vault credentials files) as both backends see it: columns, rows
// as objects, checked input and the errors of its operations. The SQL that reads and
// writes it is each backend's own.

export const CREDENTIALS_COLUMNS = 'id, vault_id, secret_hash, issued_at, expires_at, used_at, superseded_at';
const NEW_FILE_HINT = 'download a new vault credentials file from the console or with the CLI';

export function toCredentials(row: Row): CredentialsRow {
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

/** The checked fields of a new credentials file. */
export function newCredentials(input: NewCredentials) {
  const secretHash = check.text('secretHash', input.secretHash);
  const issuedAt = check.whole('issuedAt', input.issuedAt);
  const expiresAt = check.after('expiresAt', check.whole('expiresAt', input.expiresAt), issuedAt);
  return { secretHash, issuedAt, expiresAt };
}

export function credentialsExist(): ConflictError {
  return new ConflictError('CREDENTIALS_EXISTS', 'these credentials were issued before');
}

/**
 * Why a file was refused (`credentials` as stored, undefined if unknown), the most useful
 * reason first when several apply.
 */
export function refusal(credentials: CredentialsRow | undefined, now: number): AuthError {
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

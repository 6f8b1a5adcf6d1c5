import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { CertificateRow, NewCertificate } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The certificates table (uploaded client certificates) as both backends see it: columns,
// rows as objects, checked input and the errors of its operations. The SQL that reads and
// writes it is each backend's own.

export const CERTIFICATE_COLUMNS =
  'id, vault_id, fingerprint256, subject, not_after, uploaded_at, revoked_at';

export function toCertificate(row: Row): CertificateRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    fingerprint256: str(row, 'fingerprint256'),
    subject: str(row, 'subject'),
    notAfter: num(row, 'not_after'),
    uploadedAt: num(row, 'uploaded_at'),
    revokedAt: optNum(row, 'revoked_at'),
  };
}

/** The values of a new certificate, in CERTIFICATE_COLUMNS order up to uploaded_at. */
export function newCertificateValues(input: NewCertificate) {
  return [
    randomUUID(),
    input.vaultId,
    check.fingerprint('fingerprint256', input.fingerprint256),
    check.longText('subject', input.subject),
    check.whole('notAfter', input.notAfter),
    check.whole('uploadedAt', input.uploadedAt),
  ] as const;
}

export function certificateExists(fingerprint256: string): ConflictError {
  return new ConflictError('CERTIFICATE_EXISTS', `certificate ${fingerprint256} was already uploaded`);
}

export function certificateNotFound(id: string): NotFoundError {
  return new NotFoundError('CERTIFICATE_NOT_FOUND', `no uploaded certificate with id ${id}`);
}

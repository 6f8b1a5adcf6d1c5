import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { CertificateRow, NewCertificate } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = 'id, vault_id, fingerprint256, subject, not_after, uploaded_at, revoked_at';

function toCertificate(row: Row): CertificateRow {
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

export function addCertificate(db: Db, input: NewCertificate): CertificateRow {
  const values = [
    randomUUID(),
    input.vaultId,
    check.fingerprint('fingerprint256', input.fingerprint256),
    check.longText('subject', input.subject),
    check.whole('notAfter', input.notAfter),
    check.whole('uploadedAt', input.uploadedAt),
  ];
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    try {
      const row = db.get(
        `INSERT INTO certificates (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`,
        ...values,
      );
      return toCertificate(row!);
    } catch (err) {
      if (uniqueViolation(err)) {
        throw new ConflictError(
          'CERTIFICATE_EXISTS',
          `certificate ${input.fingerprint256} was already uploaded`,
        );
      }
      throw err;
    }
  });
}

export function findCertificate(db: Db, fingerprint256: string): CertificateRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM certificates WHERE fingerprint256 = ?`, fingerprint256);
  return row && toCertificate(row);
}

export function listCertificates(db: Db, vaultId: string): CertificateRow[] {
  getVault(db, vaultId);
  return db
    .all(`SELECT ${COLUMNS} FROM certificates WHERE vault_id = ? ORDER BY uploaded_at, id`, vaultId)
    .map(toCertificate);
}

export function revokeCertificate(db: Db, id: string, at: number): CertificateRow {
  check.whole('at', at);
  return db.atomic(() => {
    const row = db.get(`SELECT ${COLUMNS} FROM certificates WHERE id = ?`, id);
    if (!row) throw new NotFoundError('CERTIFICATE_NOT_FOUND', `no uploaded certificate with id ${id}`);
    const certificate = toCertificate(row);
    if (certificate.revokedAt !== null) return certificate;
    return toCertificate(
      db.get(`UPDATE certificates SET revoked_at = ? WHERE id = ? RETURNING ${COLUMNS}`, at, id)!,
    );
  });
}

import * as shared from '../shared/certificates.ts';
import type { CertificateRow, NewCertificate } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = shared.CERTIFICATE_COLUMNS;

export function addCertificate(db: Db, input: NewCertificate): CertificateRow {
  const values = shared.newCertificateValues(input);
  const sql = `INSERT INTO certificates (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(() => {
    getLiveVault(db, input.vaultId);
    return shared.toCertificate(
      onDuplicate(
        () => db.get(sql, ...values)!,
        () => shared.certificateExists(input.fingerprint256),
      ),
    );
  });
}

export function findCertificate(db: Db, fingerprint256: string): CertificateRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM certificates WHERE fingerprint256 = ?`, fingerprint256);
  return row && shared.toCertificate(row);
}

export function listCertificates(db: Db, vaultId: string): CertificateRow[] {
  getVault(db, vaultId);
  return db
    .all(`SELECT ${COLUMNS} FROM certificates WHERE vault_id = ? ORDER BY uploaded_at, id`, vaultId)
    .map(shared.toCertificate);
}

export function revokeCertificate(db: Db, id: string, at: number): CertificateRow {
  check.whole('at', at);
  return db.atomic(() => {
    const row = db.get(`SELECT ${COLUMNS} FROM certificates WHERE id = ?`, id);
    if (!row) throw shared.certificateNotFound(id);
    const certificate = shared.toCertificate(row);
    if (certificate.revokedAt !== null) return certificate;
    return shared.toCertificate(
      db.get(`UPDATE certificates SET revoked_at = ? WHERE id = ? RETURNING ${COLUMNS}`, at, id)!,
    );
  });
}

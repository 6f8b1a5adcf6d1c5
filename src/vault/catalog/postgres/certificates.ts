import * as shared from '../shared/certificates.ts';
import type { CertificateRow, NewCertificate } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = shared.CERTIFICATE_COLUMNS;

export async function addCertificate(db: Db, input: NewCertificate): Promise<CertificateRow> {
  const values = shared.newCertificateValues(input);
  const sql = `INSERT INTO certificates (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(async (db) => {
    await getLiveVault(db, input.vaultId);
    const insert = async () => (await db.get(sql, ...values))!;
    return shared.toCertificate(
      await onDuplicate(insert, () => shared.certificateExists(input.fingerprint256)),
    );
  });
}

export async function findCertificate(db: Db, fingerprint256: string): Promise<CertificateRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM certificates WHERE fingerprint256 = $1`, fingerprint256);
  return row && shared.toCertificate(row);
}

export async function listCertificates(db: Db, vaultId: string): Promise<CertificateRow[]> {
  await getVault(db, vaultId);
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM certificates WHERE vault_id = $1 ORDER BY uploaded_at, id COLLATE "C"`,
    vaultId,
  );
  return rows.map(shared.toCertificate);
}

export async function revokeCertificate(db: Db, id: string, at: number): Promise<CertificateRow> {
  check.whole('at', at);
  return db.atomic(async (db) => {
    const row = await db.get(`SELECT ${COLUMNS} FROM certificates WHERE id = $1`, id);
    if (!row) throw shared.certificateNotFound(id);
    const certificate = shared.toCertificate(row);
    if (certificate.revokedAt !== null) return certificate;
    return shared.toCertificate(
      (await db.get(`UPDATE certificates SET revoked_at = $1 WHERE id = $2 RETURNING ${COLUMNS}`, at, id))!,
    );
  });
}

import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewServer, ServerCertificate, ServerRow } from '../types.ts';
import { REGISTRATION_METHODS } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, str } from './columns.ts';
import { type Db, type Row, uniqueViolation } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = 'id, vault_id, name, cert_fingerprint, cert_not_after, via, registered_at, last_seen_at';

function toServer(row: Row): ServerRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    name: str(row, 'name'),
    certFingerprint: str(row, 'cert_fingerprint'),
    certNotAfter: num(row, 'cert_not_after'),
    via: check.oneOf('via', str(row, 'via'), REGISTRATION_METHODS),
    registeredAt: num(row, 'registered_at'),
    lastSeenAt: optNum(row, 'last_seen_at'),
  };
}

function certificateInUse(fingerprint: string): ConflictError {
  return new ConflictError(
    'CERTIFICATE_IN_USE',
    `certificate ${fingerprint} already identifies a registered server`,
    { hint: 'every server needs its own certificate' },
  );
}

export function registerServer(db: Db, input: NewServer): ServerRow {
  const name = check.text('name', input.name);
  const fingerprint = check.fingerprint('certFingerprint', input.certFingerprint);
  const values = [
    check.idOrNew(input.id),
    input.vaultId,
    name,
    fingerprint,
    check.whole('certNotAfter', input.certNotAfter),
    check.oneOf('via', input.via, REGISTRATION_METHODS),
    check.whole('registeredAt', input.registeredAt),
  ];
  return db.atomic(() => {
    const vault = getLiveVault(db, input.vaultId);
    try {
      const row = db.get(
        `INSERT INTO servers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`,
        ...values,
      );
      return toServer(row!);
    } catch (err) {
      const columns = uniqueViolation(err);
      if (columns?.includes('cert_fingerprint')) throw certificateInUse(fingerprint);
      if (columns) {
        throw new ConflictError(
          'SERVER_EXISTS',
          `vault "${vault.name}" already has a server named "${name}"`,
        );
      }
      throw err;
    }
  });
}

export function findServer(db: Db, id: string): ServerRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM servers WHERE id = ?`, id);
  return row && toServer(row);
}

export function getServer(db: Db, id: string): ServerRow {
  const server = findServer(db, id);
  if (!server) throw new NotFoundError('SERVER_NOT_FOUND', `no registered server with id ${id}`);
  return server;
}

/** For rows that name both: the server must belong to that vault. */
export function getServerOfVault(db: Db, id: string, vaultId: string): ServerRow {
  const server = findServer(db, id);
  if (!server || server.vaultId !== vaultId) {
    throw new NotFoundError('SERVER_NOT_FOUND', `no server with id ${id} in vault ${vaultId}`);
  }
  return server;
}

export function findServerByFingerprint(db: Db, certFingerprint: string): ServerRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM servers WHERE cert_fingerprint = ?`, certFingerprint);
  return row && toServer(row);
}

export function listServers(db: Db, vaultId: string): ServerRow[] {
  getVault(db, vaultId);
  return db.all(`SELECT ${COLUMNS} FROM servers WHERE vault_id = ? ORDER BY name`, vaultId).map(toServer);
}

export function renewServerCertificate(db: Db, id: string, cert: ServerCertificate): ServerRow {
  const fingerprint = check.fingerprint('certFingerprint', cert.certFingerprint);
  const notAfter = check.whole('certNotAfter', cert.certNotAfter);
  return db.atomic(() => {
    getServer(db, id);
    try {
      const row = db.get(
        `UPDATE servers SET cert_fingerprint = ?, cert_not_after = ? WHERE id = ? RETURNING ${COLUMNS}`,
        fingerprint,
        notAfter,
        id,
      );
      return toServer(row!);
    } catch (err) {
      if (uniqueViolation(err)) throw certificateInUse(fingerprint);
      throw err;
    }
  });
}

export function touchServer(db: Db, id: string, at: number): void {
  check.whole('at', at);
  const changed = db.run(
    'UPDATE servers SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)',
    at,
    id,
    at,
  );
  if (changed === 0) getServer(db, id);
}

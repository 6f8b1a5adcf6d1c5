import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { NewServer, ServerCertificate, ServerRow } from '../types.ts';
import { REGISTRATION_METHODS } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, type Row, str } from './columns.ts';

// The servers table (registered agents) as both backends see it: columns, rows as objects,
// checked input and the errors of its operations. The SQL that reads and writes it is each
// backend's own.

export const SERVER_COLUMNS =
  'id, vault_id, name, cert_fingerprint, cert_not_after, via, registered_at, last_seen_at';

export function toServer(row: Row): ServerRow {
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

/** The checked values of a new server, in SERVER_COLUMNS order up to registered_at. */
export function newServerValues(input: NewServer) {
  const name = check.text('name', input.name);
  const fingerprint = check.fingerprint('certFingerprint', input.certFingerprint);
  return [
    check.idOrNew(input.id),
    input.vaultId,
    name,
    fingerprint,
    check.whole('certNotAfter', input.certNotAfter),
    check.oneOf('via', input.via, REGISTRATION_METHODS),
    check.whole('registeredAt', input.registeredAt),
  ] as const;
}

/** cert_fingerprint and cert_not_after of a renewal, checked. */
export function certificateValues(cert: ServerCertificate) {
  return [
    check.fingerprint('certFingerprint', cert.certFingerprint),
    check.whole('certNotAfter', cert.certNotAfter),
  ] as const;
}

export function certificateInUse(fingerprint: string): ConflictError {
  return new ConflictError(
    'CERTIFICATE_IN_USE',
    `certificate ${fingerprint} already identifies a registered server`,
    { hint: 'every server needs its own certificate' },
  );
}

/**
 * What a registration that broke a unique constraint is told: `constraint` names its
 * columns (SQLite) or the constraint (PostgreSQL); both mention the column.
 */
export function registrationConflict(
  constraint: string,
  server: NewServer,
  vaultName: string,
): ConflictError {
  if (constraint.includes('cert_fingerprint')) return certificateInUse(server.certFingerprint);
  return new ConflictError(
    'SERVER_EXISTS',
    `vault "${vaultName}" already has a server named "${server.name}"`,
  );
}

export function serverNotFound(id: string): NotFoundError {
  return new NotFoundError('SERVER_NOT_FOUND', `no registered server with id ${id}`);
}

/** For rows that name both: the server must belong to that vault. */
export function serverInVault(server: ServerRow | undefined, id: string, vaultId: string): ServerRow {
  if (!server || server.vaultId !== vaultId) {
    throw new NotFoundError('SERVER_NOT_FOUND', `no server with id ${id} in vault ${vaultId}`);
  }
  return server;
}

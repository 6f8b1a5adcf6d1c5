import * as shared from '../shared/servers.ts';
import type { NewServer, ServerCertificate, ServerRow } from '../types.ts';
import * as check from '../validate.ts';
import { type Db, onDuplicate } from './db.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = shared.SERVER_COLUMNS;

export function registerServer(db: Db, input: NewServer): ServerRow {
  const values = shared.newServerValues(input);
  const sql = `INSERT INTO servers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(() => {
    const vault = getLiveVault(db, input.vaultId);
    const conflict = (columns: string) => shared.registrationConflict(columns, input, vault.name);
    return shared.toServer(onDuplicate(() => db.get(sql, ...values)!, conflict));
  });
}

export function findServer(db: Db, id: string): ServerRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM servers WHERE id = ?`, id);
  return row && shared.toServer(row);
}

export function getServer(db: Db, id: string): ServerRow {
  const server = findServer(db, id);
  if (!server) throw shared.serverNotFound(id);
  return server;
}

/** For rows that name both: the server must belong to that vault. */
export function getServerOfVault(db: Db, id: string, vaultId: string): ServerRow {
  return shared.serverInVault(findServer(db, id), id, vaultId);
}

export function findServerByFingerprint(db: Db, certFingerprint: string): ServerRow | undefined {
  const row = db.get(`SELECT ${COLUMNS} FROM servers WHERE cert_fingerprint = ?`, certFingerprint);
  return row && shared.toServer(row);
}

export function listServers(db: Db, vaultId: string): ServerRow[] {
  getVault(db, vaultId);
  return db
    .all(`SELECT ${COLUMNS} FROM servers WHERE vault_id = ? ORDER BY name`, vaultId)
    .map(shared.toServer);
}

export function renewServerCertificate(db: Db, id: string, cert: ServerCertificate): ServerRow {
  const [fingerprint, notAfter] = shared.certificateValues(cert);
  const sql = `UPDATE servers SET cert_fingerprint = ?, cert_not_after = ? WHERE id = ? RETURNING ${COLUMNS}`;
  return db.atomic(() => {
    getServer(db, id);
    return shared.toServer(
      onDuplicate(
        () => db.get(sql, fingerprint, notAfter, id)!,
        () => shared.certificateInUse(fingerprint),
      ),
    );
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

import * as shared from '../shared/servers.ts';
import type { NewServer, ServerCertificate, ServerRow } from '../types.ts';
import * as check from '../validate.ts';
import type { Db } from './db.ts';
import { onDuplicate } from './errors.ts';
import { getLiveVault, getVault } from './vaults.ts';

const COLUMNS = shared.SERVER_COLUMNS;

export async function registerServer(db: Db, input: NewServer): Promise<ServerRow> {
  const values = shared.newServerValues(input);
  const sql = `INSERT INTO servers (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) RETURNING ${COLUMNS}`;
  return db.atomic(async (db) => {
    const vault = await getLiveVault(db, input.vaultId);
    const conflict = (constraint: string) => shared.registrationConflict(constraint, input, vault.name);
    return shared.toServer(await onDuplicate(async () => (await db.get(sql, ...values))!, conflict));
  });
}

export async function findServer(db: Db, id: string): Promise<ServerRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM servers WHERE id = $1`, id);
  return row && shared.toServer(row);
}

export async function getServer(db: Db, id: string): Promise<ServerRow> {
  const server = await findServer(db, id);
  if (!server) throw shared.serverNotFound(id);
  return server;
}

/** For rows that name both: the server must belong to that vault. */
export async function getServerOfVault(db: Db, id: string, vaultId: string): Promise<ServerRow> {
  return shared.serverInVault(await findServer(db, id), id, vaultId);
}

export async function findServerByFingerprint(
  db: Db,
  certFingerprint: string,
): Promise<ServerRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM servers WHERE cert_fingerprint = $1`, certFingerprint);
  return row && shared.toServer(row);
}

export async function listServers(db: Db, vaultId: string): Promise<ServerRow[]> {
  await getVault(db, vaultId);
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM servers WHERE vault_id = $1 ORDER BY name COLLATE "C"`,
    vaultId,
  );
  return rows.map(shared.toServer);
}

export async function renewServerCertificate(
  db: Db,
  id: string,
  cert: ServerCertificate,
): Promise<ServerRow> {
  const [fingerprint, notAfter] = shared.certificateValues(cert);
  const sql = `UPDATE servers SET cert_fingerprint = $1, cert_not_after = $2 WHERE id = $3 RETURNING ${COLUMNS}`;
  return db.atomic(async (db) => {
    await getServer(db, id);
    const update = async () => (await db.get(sql, fingerprint, notAfter, id))!;
    return shared.toServer(await onDuplicate(update, () => shared.certificateInUse(fingerprint)));
  });
}

export async function touchServer(db: Db, id: string, at: number): Promise<void> {
  check.whole('at', at);
  const changed = await db.run(
    'UPDATE servers SET last_seen_at = $1 WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)',
    at,
    id,
  );
  if (changed === 0) await getServer(db, id);
}

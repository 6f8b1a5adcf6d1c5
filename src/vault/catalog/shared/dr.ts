import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../../errors/index.ts';
import type {
  NewSite,
  NewSiteAgent,
  NewSiteCredentials,
  SiteAgentRow,
  SiteCredentialsRow,
  SiteRow,
} from '../dr-types.ts';
import * as check from '../validate.ts';
import * as rows from './dr-rows.ts';
import { all, get, type Operation, run } from './dr-steps.ts';

// The disaster-recovery operations, written once for both backends: each is a generator
// that yields its SQL statements (`?` placeholders) and gets their results back. SQLite
// runs it synchronously, PostgreSQL awaits each statement (numbering the placeholders);
// each backend runs a whole operation atomically (../sqlite/dr.ts, ../postgres/dr.ts).
// Only portable SQL appears here: no placeholder whose type PostgreSQL cannot infer.

const SITE_NAME_MAX = 63;

function* liveVault(vaultId: string): Operation<void> {
  const row = yield* get('SELECT id, deleted_at FROM vaults WHERE id = ?', vaultId);
  if (!row) throw new NotFoundError('VAULT_NOT_FOUND', `no vault with id ${vaultId}`);
  if (row.deleted_at !== null) throw new ConflictError('VAULT_DELETED', 'the vault of this site is deleted');
}

// ---- sites

export function* createSite(input: NewSite): Operation<SiteRow> {
  const name = check.text('name', input.name, SITE_NAME_MAX);
  const createdAt = check.whole('createdAt', input.createdAt);
  yield* liveVault(input.vaultId);
  if (yield* findLiveSite(name)) throw rows.siteExists(name);
  const row = yield* get(
    `INSERT INTO dr_sites (${rows.SITE_COLUMNS}) VALUES (?, ?, ?, ?, NULL, NULL, NULL) RETURNING ${rows.SITE_COLUMNS}`,
    randomUUID(),
    input.vaultId,
    name,
    createdAt,
  );
  return rows.toSite(row!);
}

function* findLiveSite(name: string): Operation<SiteRow | undefined> {
  const row = yield* get(
    `SELECT ${rows.SITE_COLUMNS} FROM dr_sites WHERE name = ? AND deleted_at IS NULL`,
    name,
  );
  return row && rows.toSite(row);
}

export function* getSite(id: string): Operation<SiteRow> {
  const row = yield* get(`SELECT ${rows.SITE_COLUMNS} FROM dr_sites WHERE id = ?`, id);
  if (!row) throw rows.siteNotFound(`with id ${id}`);
  return rows.toSite(row);
}

export function* getSiteByName(name: string): Operation<SiteRow> {
  const site = yield* findLiveSite(name);
  if (!site) throw rows.siteNotFound(`named "${name}"`);
  return site;
}

export function* listSites(options?: { vaultId?: string }): Operation<SiteRow[]> {
  const found = options?.vaultId
    ? yield* all(
        `SELECT ${rows.SITE_COLUMNS} FROM dr_sites WHERE deleted_at IS NULL AND vault_id = ? ORDER BY name`,
        options.vaultId,
      )
    : yield* all(`SELECT ${rows.SITE_COLUMNS} FROM dr_sites WHERE deleted_at IS NULL ORDER BY name`);
  return found.map(rows.toSite);
}

export function* deleteSite(id: string, at: number): Operation<SiteRow> {
  check.whole('at', at);
  const site = yield* getSite(id);
  if (site.deletedAt !== null) return site;
  const using = yield* all(
    'SELECT name FROM dr_workloads WHERE primary_site_id = ? OR replica_site_id = ? ORDER BY name',
    id,
    id,
  );
  if (using.length > 0)
    throw rows.siteInUse(
      site,
      using.map((r) => String(r.name)),
    );
  yield* run('UPDATE dr_sites SET deleted_at = ? WHERE id = ?', at, id);
  // Its agent's certificate stops opening anything at once.
  yield* run('DELETE FROM dr_site_agents WHERE site_id = ?', id);
  return yield* getSite(id);
}

/** downSince null: the site is up. */
export function* setSiteDown(id: string, downSince: number | null): Operation<SiteRow> {
  const value = check.optionalWhole('downSince', downSince);
  yield* getSite(id);
  yield* run('UPDATE dr_sites SET down_since = ? WHERE id = ?', value, id);
  return yield* getSite(id);
}

export function* liveSite(id: string): Operation<SiteRow> {
  const site = yield* getSite(id);
  if (site.deletedAt !== null) throw rows.siteDeleted(site);
  return site;
}

// ---- site credentials and agents

export function* issueSiteCredentials(input: NewSiteCredentials): Operation<SiteCredentialsRow> {
  const secretHash = check.text('secretHash', input.secretHash);
  const issuedAt = check.whole('issuedAt', input.issuedAt);
  const expiresAt = check.after('expiresAt', check.whole('expiresAt', input.expiresAt), issuedAt);
  yield* liveSite(input.siteId);
  // Only the newest file is valid: issuing retires every earlier one in the same step.
  yield* run(
    'UPDATE dr_site_credentials SET superseded_at = ? WHERE site_id = ? AND superseded_at IS NULL',
    issuedAt,
    input.siteId,
  );
  const row = yield* get(
    `INSERT INTO dr_site_credentials (id, site_id, secret_hash, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)
     RETURNING ${rows.SITE_CREDENTIALS_COLUMNS}`,
    randomUUID(),
    input.siteId,
    secretHash,
    issuedAt,
    expiresAt,
  );
  return rows.toSiteCredentials(row!);
}

export function* consumeSiteCredentials(secretHash: string, now: number): Operation<SiteCredentialsRow> {
  check.whole('now', now);
  // One statement decides and marks, so two agents racing with one file cannot both win.
  const row = yield* get(
    `UPDATE dr_site_credentials SET used_at = ?
     WHERE secret_hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?
     RETURNING ${rows.SITE_CREDENTIALS_COLUMNS}`,
    now,
    secretHash,
    now,
  );
  if (row) return rows.toSiteCredentials(row);
  const known = yield* get(
    `SELECT ${rows.SITE_CREDENTIALS_COLUMNS} FROM dr_site_credentials WHERE secret_hash = ?`,
    secretHash,
  );
  throw rows.siteCredentialsRefusal(known && rows.toSiteCredentials(known), now);
}

/** Replaces the site's agent: the old certificate stops opening anything. */
export function* registerSiteAgent(input: NewSiteAgent): Operation<SiteAgentRow> {
  const fingerprint = check.fingerprint('certFingerprint', input.certFingerprint);
  const notAfter = check.whole('certNotAfter', input.certNotAfter);
  const registeredAt = check.whole('registeredAt', input.registeredAt);
  yield* liveSite(input.siteId);
  const taken = yield* get('SELECT site_id FROM dr_site_agents WHERE cert_fingerprint = ?', fingerprint);
  const server = yield* get('SELECT id FROM servers WHERE cert_fingerprint = ?', fingerprint);
  if ((taken && taken.site_id !== input.siteId) || server) throw rows.certificateInUse();
  yield* run('DELETE FROM dr_site_agents WHERE site_id = ?', input.siteId);
  const row = yield* get(
    `INSERT INTO dr_site_agents (${rows.SITE_AGENT_COLUMNS}) VALUES (?, ?, ?, ?, ?) RETURNING ${rows.SITE_AGENT_COLUMNS}`,
    randomUUID(),
    input.siteId,
    fingerprint,
    notAfter,
    registeredAt,
  );
  return rows.toSiteAgent(row!);
}

export function* findSiteAgentByFingerprint(certFingerprint: string): Operation<SiteAgentRow | undefined> {
  const row = yield* get(
    `SELECT ${rows.SITE_AGENT_COLUMNS} FROM dr_site_agents WHERE cert_fingerprint = ?`,
    certFingerprint,
  );
  return row && rows.toSiteAgent(row);
}

export function* findSiteAgentOfSite(siteId: string): Operation<SiteAgentRow | undefined> {
  const row = yield* get(`SELECT ${rows.SITE_AGENT_COLUMNS} FROM dr_site_agents WHERE site_id = ?`, siteId);
  return row && rows.toSiteAgent(row);
}

import { ConflictError, IntegrityError } from '../../errors/index.ts';
import { AUDIT_SQL } from './schema/audit.ts';
import { RECOVERY_PLANS_SQL } from './schema/recovery-plans.ts';

// The catalog schema as numbered migrations, shared by every backend. A migration is
// never edited once released: change the schema by appending one. Each backend records
// applied versions in `schema_migrations (version, name, applied_at)`.
//
// Portability to PostgreSQL: times and sizes are BIGINT (SQLite reads them as INTEGER);
// ids are TEXT; JSON is TEXT (JSONB would be more idiomatic, TEXT works in both);
// partial unique indexes, ON CONFLICT ... DO UPDATE and RETURNING exist in both; the
// boolean is INTEGER 0/1, which works in both (BOOLEAN would be idiomatic there). Not
// portable, marked where used: BLOB, which the PostgreSQL backend must write BYTEA.
// Enumerations (role, status, ...) are checked in code, not by CHECK constraints, so
// adding a value needs no table rebuild in SQLite.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const INITIAL_SCHEMA = `
CREATE TABLE vaults (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  region TEXT NOT NULL,
  quota_bytes BIGINT,
  soft_delete_days INTEGER NOT NULL,
  immutable INTEGER NOT NULL,
  policy TEXT,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT
);

CREATE TABLE credentials (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  secret_hash TEXT NOT NULL UNIQUE,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  superseded_at BIGINT
);
CREATE INDEX credentials_vault ON credentials (vault_id);

CREATE TABLE certificates (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  fingerprint256 TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  not_after BIGINT NOT NULL,
  uploaded_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX certificates_vault ON certificates (vault_id);

CREATE TABLE servers (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  name TEXT NOT NULL,
  cert_fingerprint TEXT NOT NULL UNIQUE,
  cert_not_after BIGINT NOT NULL,
  via TEXT NOT NULL,
  registered_at BIGINT NOT NULL,
  last_seen_at BIGINT,
  next_pack_seq BIGINT NOT NULL DEFAULT 0,
  UNIQUE (vault_id, name)
);

CREATE TABLE packs (
  server_id TEXT NOT NULL REFERENCES servers (id),
  seq BIGINT NOT NULL,
  name TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  condemned_at BIGINT,
  deleted_at BIGINT,
  PRIMARY KEY (server_id, seq)
);
CREATE UNIQUE INDEX packs_live_name ON packs (server_id, name) WHERE deleted_at IS NULL;
CREATE INDEX packs_name ON packs (server_id, name);

CREATE TABLE recovery_points (
  id TEXT PRIMARY KEY,
  server_id TEXT NOT NULL REFERENCES servers (id),
  snapshot_name TEXT NOT NULL,
  time BIGINT NOT NULL,
  stats TEXT NOT NULL,
  packs BLOB NOT NULL, -- not portable: BYTEA in PostgreSQL
  pack_count BIGINT NOT NULL,
  committed_at BIGINT NOT NULL,
  soft_deleted_at BIGINT,
  deleted_at BIGINT,
  UNIQUE (server_id, snapshot_name)
);
CREATE INDEX recovery_points_server_time ON recovery_points (server_id, time);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  server_id TEXT REFERENCES servers (id),
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  bytes BIGINT NOT NULL,
  error TEXT,
  skipped_files TEXT NOT NULL
);
CREATE INDEX jobs_vault_started ON jobs (vault_id, started_at);

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  server_id TEXT REFERENCES servers (id),
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  raised_at BIGINT NOT NULL,
  last_raised_at BIGINT NOT NULL,
  occurrences BIGINT NOT NULL,
  acknowledged_at BIGINT,
  resolved_at BIGINT
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (vault_id, dedupe_key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_vault_raised ON alerts (vault_id, raised_at);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  vault_id TEXT REFERENCES vaults (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);

-- server_id is '' for the vault's own totals, not NULL: NULLs never collide in a primary
-- key or unique index (SQLite, PostgreSQL < 15), which would defeat the upsert. Hence no
-- foreign key on it either; history may outlive a server anyway.
CREATE TABLE usage_history (
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  server_id TEXT NOT NULL,
  day TEXT NOT NULL,
  protected_bytes BIGINT NOT NULL,
  stored_bytes BIGINT NOT NULL,
  breakdown TEXT NOT NULL,
  PRIMARY KEY (vault_id, server_id, day)
);
`;

// Tokens belong to the user who made them (a role or password change revokes them); jobs
// count every skipped file while keeping only the first; alerts go out to webhooks, each
// raise queued per webhook with its delivery state, so a restart neither loses nor
// repeats one. The webhook secret is stored sealed by the service, never in clear.
const PEOPLE_AND_WEBHOOKS = `
ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users (id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

ALTER TABLE jobs ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  url TEXT NOT NULL,
  secret_sealed TEXT,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX webhooks_vault ON webhooks (vault_id);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id),
  alert_id TEXT NOT NULL REFERENCES alerts (id),
  alert TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT,
  finished_at BIGINT,
  last_status BIGINT,
  last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);
`;

// A vault may keep a copy in a secondary region; where that copy stands is kept per
// vault as its last replication cycle found it (the lag the vault reports adds the packs
// recorded since). A missing row means no cycle has run for that secondary yet.
const SECONDARY_REGIONS = `
ALTER TABLE vaults ADD COLUMN secondary_region TEXT;

CREATE TABLE replication_status (
  vault_id TEXT PRIMARY KEY REFERENCES vaults (id),
  secondary_region TEXT NOT NULL,
  listed_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  copied_objects BIGINT NOT NULL,
  copied_bytes BIGINT NOT NULL,
  deleted_objects BIGINT NOT NULL,
  pending_objects BIGINT NOT NULL,
  pending_bytes BIGINT NOT NULL,
  oldest_pending_at BIGINT,
  synced_at BIGINT,
  problems TEXT NOT NULL
);
`;

// Several vault servers share one catalog: a lease names who does a piece of work (a
// background task, retention of one server's points) until when. A row stays after it
// runs out, so generation keeps counting the takes.
const LEASES = `
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  generation BIGINT NOT NULL
);
`;

// Disaster recovery (DESIGN.md §6): sites of a vault, the one site agent of each (its
// client certificate pinned like a server's), one-use site credentials files, workloads
// (the declared YAML as JSON, versioned), what each site agent last reported (inventory,
// and replication health per workload and site), a fencing epoch per workload, and the
// command queue server → site agent. A site name is unique among live sites only, so a
// deleted site's name can be used again; its rows stay for history.
const DISASTER_RECOVERY = `
CREATE TABLE dr_sites (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_heartbeat_at BIGINT,
  down_since BIGINT,
  deleted_at BIGINT
);
CREATE UNIQUE INDEX dr_sites_live_name ON dr_sites (name) WHERE deleted_at IS NULL;
CREATE INDEX dr_sites_vault ON dr_sites (vault_id);

CREATE TABLE dr_site_credentials (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES dr_sites (id),
  secret_hash TEXT NOT NULL UNIQUE,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  superseded_at BIGINT
);
CREATE INDEX dr_site_credentials_site ON dr_site_credentials (site_id);

CREATE TABLE dr_site_agents (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL UNIQUE REFERENCES dr_sites (id),
  cert_fingerprint TEXT NOT NULL UNIQUE,
  cert_not_after BIGINT NOT NULL,
  registered_at BIGINT NOT NULL
);

CREATE TABLE dr_workloads (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  version BIGINT NOT NULL,
  primary_site_id TEXT NOT NULL REFERENCES dr_sites (id),
  replica_site_id TEXT NOT NULL REFERENCES dr_sites (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX dr_workloads_vault ON dr_workloads (vault_id);

CREATE TABLE dr_site_reports (
  site_id TEXT PRIMARY KEY REFERENCES dr_sites (id),
  reported_at BIGINT NOT NULL,
  inventory TEXT NOT NULL
);

CREATE TABLE dr_replication_health (
  workload_id TEXT NOT NULL REFERENCES dr_workloads (id),
  site_id TEXT NOT NULL REFERENCES dr_sites (id),
  reported_at BIGINT NOT NULL,
  last_point_at BIGINT,
  last_point_id TEXT,
  consistent INTEGER NOT NULL,
  lag_ms BIGINT,
  error TEXT,
  PRIMARY KEY (workload_id, site_id)
);

CREATE TABLE dr_fencing (
  workload_id TEXT PRIMARY KEY REFERENCES dr_workloads (id),
  epoch BIGINT NOT NULL,
  active_site_id TEXT NOT NULL REFERENCES dr_sites (id),
  changed_at BIGINT NOT NULL
);

CREATE TABLE dr_commands (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES dr_sites (id),
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  result TEXT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX dr_commands_site_state ON dr_commands (site_id, state, created_at);
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: INITIAL_SCHEMA },
  { version: 2, name: 'token owners, skipped counts, webhooks', sql: PEOPLE_AND_WEBHOOKS },
  { version: 3, name: 'secondary regions, replication status', sql: SECONDARY_REGIONS },
  { version: 4, name: 'leases', sql: LEASES },
  { version: 5, name: 'disaster recovery: sites, site agents, workloads, commands', sql: DISASTER_RECOVERY },
  { version: 6, name: 'recovery plans and runs', sql: RECOVERY_PLANS_SQL },
  { version: 7, name: 'audit log', sql: AUDIT_SQL },
];

/**
 * The migrations still to apply to a catalog that recorded `applied`, in order.
 * Refuses a catalog written by a newer Offsite (it recorded versions this build does not
 * know) and one whose history has a hole (a known version missing below an applied one).
 */
export function pendingMigrations(
  applied: readonly number[],
  known: readonly Migration[] = MIGRATIONS,
): Migration[] {
  const knownVersions = new Set(known.map((m) => m.version));
  const unknown = applied.filter((v) => !knownVersions.has(v)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    throw new ConflictError(
      'CATALOG_TOO_NEW',
      `the catalog has schema version ${unknown.join(', ')}, which this Offsite does not know ` +
        `(it knows up to ${Math.max(0, ...knownVersions)})`,
      { hint: 'run a newer Offsite against this catalog, or rebuild the catalog from storage' },
    );
  }
  const done = new Set(applied);
  const pending = known.filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
  const newestApplied = Math.max(0, ...applied);
  const hole = pending.find((m) => m.version < newestApplied);
  if (hole) {
    throw new IntegrityError(
      'CATALOG_MIGRATION_MISSING',
      `the catalog has schema version ${newestApplied} but lacks migration ${hole.version} (${hole.name})`,
      { hint: 'restore the catalog from a backup, or rebuild it from storage' },
    );
  }
  return pending;
}

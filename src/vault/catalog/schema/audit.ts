// Migration 7: the audit log and the agents' last region probes.
//
// audit_log is append-only: each entry carries the SHA-256 of its own canonical text and
// of the entry before it (../shared/audit.ts). audit_head is one row: the last seq and
// hash (so a truncated tail is seen) and the anchor — the seq and prev hash the first
// kept entry must have once older entries were pruned. Appending updates that row first,
// so concurrent writers (several instances on PostgreSQL) are serialised by it and never
// fork the chain; seq as the primary key would refuse a fork anyway.
export const AUDIT_SQL = `
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  address TEXT,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  target TEXT,
  vault TEXT,
  before_state TEXT,
  after_state TEXT,
  outcome TEXT NOT NULL,
  error_code TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_vault ON audit_log (vault, seq);

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  anchor_seq BIGINT NOT NULL,
  anchor_hash TEXT NOT NULL,
  pruned_at BIGINT
);
INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash, pruned_at)
VALUES (1, 0, '${'0'.repeat(64)}', 1, '${'0'.repeat(64)}', NULL);

CREATE TABLE region_probes (
  server_id TEXT PRIMARY KEY REFERENCES servers (id),
  probed_at BIGINT NOT NULL,
  results TEXT NOT NULL
);
`;

// Migration 6: recovery plans and their runs (DESIGN.md §6), the failover state machine.
// A plan is the checked YAML as JSON (ordered groups of workloads with pre / post
// actions), versioned like a workload. A run is one execution of a plan (test, planned
// or unplanned failover): its outcome, measured RTO and RPO, and, for a test, the state
// of its cleanup. Its steps are built at the start and each keeps its own state, the
// command it queued and its result, so a restarted server resumes a run where it was.
export const RECOVERY_PLANS_SQL = `
CREATE TABLE dr_plans (
  id TEXT PRIMARY KEY,
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX dr_plans_vault ON dr_plans (vault_id);

CREATE TABLE dr_runs (
  id TEXT PRIMARY KEY,
  plan_id TEXT NOT NULL REFERENCES dr_plans (id),
  vault_id TEXT NOT NULL REFERENCES vaults (id),
  plan_version BIGINT NOT NULL,
  type TEXT NOT NULL,
  failback INTEGER NOT NULL,
  point TEXT NOT NULL,
  port_offset INTEGER NOT NULL,
  started_by TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  healthy_at BIGINT,
  rto_ms BIGINT,
  rpo_ms BIGINT,
  error TEXT,
  committed_at BIGINT,
  cleanup_state TEXT,
  cleanup_started_at BIGINT,
  cleanup_finished_at BIGINT
);
CREATE INDEX dr_runs_plan ON dr_runs (plan_id, started_at);
CREATE INDEX dr_runs_state ON dr_runs (state);

CREATE TABLE dr_run_steps (
  run_id TEXT NOT NULL REFERENCES dr_runs (id),
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  phase TEXT NOT NULL,
  stage INTEGER NOT NULL,
  lane TEXT NOT NULL,
  kind TEXT NOT NULL,
  workload_id TEXT REFERENCES dr_workloads (id),
  site_id TEXT REFERENCES dr_sites (id),
  params TEXT NOT NULL,
  on_error TEXT NOT NULL,
  state TEXT NOT NULL,
  command_id TEXT,
  started_at BIGINT,
  finished_at BIGINT,
  detail TEXT,
  result TEXT,
  PRIMARY KEY (run_id, seq),
  UNIQUE (run_id, name)
);
CREATE INDEX dr_run_steps_workload ON dr_run_steps (workload_id);
`;

import type { JsonObject } from './rows.ts';

// The rows of disaster recovery (DESIGN.md §6) as the Catalog hands them out: sites of a
// vault and their site agents, workloads, what site agents report, fencing epochs and the
// command queue from the server to a site agent. Times are milliseconds since the epoch.

/** A data centre. Its site agent's heartbeats set lastHeartbeatAt; silence sets downSince. */
export interface SiteRow {
  id: string;
  vaultId: string;
  name: string;
  createdAt: number;
  lastHeartbeatAt: number | null;
  /** When the server found the site silent too long; null while it is up (or never heard). */
  downSince: number | null;
  deletedAt: number | null;
}

export interface NewSite {
  vaultId: string;
  name: string;
  createdAt: number;
}

/** A site credentials file as stored: only its secret's SHA-256. */
export interface SiteCredentialsRow {
  id: string;
  siteId: string;
  issuedAt: number;
  expiresAt: number;
  usedAt: number | null;
  supersededAt: number | null;
}

export interface NewSiteCredentials {
  siteId: string;
  secretHash: string;
  issuedAt: number;
  expiresAt: number;
}

/** The one site agent of a site, known by the SHA-256 of its client certificate. */
export interface SiteAgentRow {
  id: string;
  siteId: string;
  certFingerprint: string;
  certNotAfter: number;
  registeredAt: number;
}

export interface NewSiteAgent {
  siteId: string;
  certFingerprint: string;
  certNotAfter: number;
  registeredAt: number;
}

/** A workload as declared (the checked YAML, as JSON) and the sites it runs and replicates at. */
export interface WorkloadRow {
  id: string;
  vaultId: string;
  name: string;
  spec: JsonObject;
  /** 1 when created; one more each time an apply changes the spec. */
  version: number;
  primarySiteId: string;
  replicaSiteId: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewWorkload {
  vaultId: string;
  name: string;
  spec: JsonObject;
  primarySiteId: string;
  replicaSiteId: string;
}

export const WORKLOAD_CHANGES = ['created', 'updated', 'unchanged'] as const;
export type WorkloadChange = (typeof WORKLOAD_CHANGES)[number];

export interface AppliedWorkload {
  workload: WorkloadRow;
  change: WorkloadChange;
}

/** What a site agent last said about its site (metadata only, never workload data). */
export interface SiteReportRow {
  siteId: string;
  reportedAt: number;
  inventory: JsonObject;
}

/** Replication of one workload as seen from one site, at its agent's last report. */
export interface ReplicationHealthRow {
  workloadId: string;
  siteId: string;
  reportedAt: number;
  /** Time of the newest recovery point at the replica; null before the first one. */
  lastPointAt: number | null;
  lastPointId: string | null;
  /** Whether that point is application-consistent (taken between freeze and thaw). */
  consistent: boolean;
  lagMs: number | null;
  error: string | null;
}

export type NewReplicationHealth = Omit<ReplicationHealthRow, 'siteId' | 'reportedAt'>;

/** A heartbeat: the site's inventory and the replication health of its workloads. */
export interface NewSiteReport {
  siteId: string;
  at: number;
  inventory: JsonObject;
  health: readonly NewReplicationHealth[];
}

/** Who may run a workload: only a site agent holding the current epoch for its site. */
export interface FencingRow {
  workloadId: string;
  epoch: number;
  activeSiteId: string;
  changedAt: number;
}

export const COMMAND_STATES = ['queued', 'sent', 'succeeded', 'failed'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** One instruction from the server to a site agent, and what came of it. */
export interface CommandRow {
  id: string;
  siteId: string;
  kind: string;
  payload: JsonObject;
  state: CommandState;
  result: JsonObject | null;
  createdAt: number;
  sentAt: number | null;
  finishedAt: number | null;
}

export interface NewCommand {
  siteId: string;
  kind: string;
  payload: JsonObject;
  createdAt: number;
}

export interface CommandOutcome {
  state: 'succeeded' | 'failed';
  result: JsonObject;
  at: number;
}

export interface CommandClaim {
  now: number;
  /** Sent commands not finished by then are sent again (the agent may have died with them). */
  resendSentBefore: number;
  limit: number;
}

import type { JsonObject, JsonValue } from './rows.ts';

// The audit log (migration 7): one entry per change made through the API, or attempt
// refused, chained by SHA-256 (see ./shared/audit.ts), and each agent's last region probe.

/** refused: the service said no (bad input, auth, not found, conflict, quota); failed: it broke. */
export const AUDIT_OUTCOMES = ['succeeded', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What the service appends; seq, hashes come from the catalog. */
export interface NewAuditEntry {
  at: number;
  /** Who: {kind: 'token' | 'agent' | 'site-agent' | 'anonymous' | 'system', ...}; never a secret. */
  actor: JsonObject;
  /** The remote address of the connection; null when there is none (the server itself). */
  address: string | null;
  /** 'vault.create', 'token.revoke', ... */
  action: string;
  /** 'POST /v1/vaults' (the route's pattern, not the path). */
  route: string;
  /** 'vault:prod', 'user:alice', ...; null when the request did not get far enough to say. */
  target: string | null;
  /** The vault's name, for listing one vault's entries. */
  vault: string | null;
  before: JsonValue | null;
  after: JsonValue | null;
  outcome: AuditOutcome;
  /** The error code of a refused or failed attempt. */
  errorCode: string | null;
}

export interface AuditEntry extends NewAuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The chain's ends: the last entry, and what the first kept entry must continue from. */
export interface AuditHead {
  seq: number;
  hash: string;
  anchorSeq: number;
  anchorHash: string;
  prunedAt: number | null;
}

export interface AuditListOptions {
  /** Entries with a larger seq only (paging). */
  afterSeq?: number;
  /** Entries at or after this time only. */
  since?: number;
  vault?: string;
  /** At most this many (default 1000, at most 10 000). */
  limit?: number;
}

export interface AuditPruned {
  removed: number;
  head: AuditHead;
}

/** The last region probe of a registered server. */
export interface ProbeRow {
  serverId: string;
  probedAt: number;
  results: JsonObject;
}

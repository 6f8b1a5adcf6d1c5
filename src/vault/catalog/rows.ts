// The rows of the catalog (./types.ts has the Catalog contract over them). Rows are plain
// data: ids are random UUID strings, times are milliseconds since the epoch, sizes are
// byte counts.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const REGISTRATION_METHODS = ['credentials', 'certificate'] as const;
export type RegistrationMethod = (typeof REGISTRATION_METHODS)[number];

export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'warning'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ROLES = ['owner', 'contributor', 'operator', 'reader'] as const;
export type Role = (typeof ROLES)[number];

/** 'active' is neither soft-deleted nor deleted; 'deleted' means its snapshot file is gone. */
export const POINT_STATES = ['active', 'soft-deleted', 'deleted'] as const;
export type PointState = (typeof POINT_STATES)[number];

export const DEFAULT_SOFT_DELETE_DAYS = 14;
export const DEFAULT_JOB_LIST_LIMIT = 100;

export interface VaultRow {
  id: string;
  name: string;
  region: string;
  /** null: no quota. */
  quotaBytes: number | null;
  /** 0 means soft delete is off (the vault was unlocked for direct deletion). */
  softDeleteDays: number;
  /** Locked: the service refuses policies that reduce retention. The catalog only stores it. */
  immutable: boolean;
  policy: JsonObject | null;
  createdAt: number;
  deletedAt: number | null;
  /** The region a copy of the vault is replicated to (geo-redundancy); null: none. */
  secondaryRegion: string | null;
}

export interface NewVault {
  /** Only rebuild-catalog gives one (restoring a row under its old id); otherwise it is new. */
  id?: string;
  name: string;
  region: string;
  quotaBytes?: number | null;
  softDeleteDays?: number;
  immutable?: boolean;
  policy?: JsonObject | null;
  createdAt: number;
  /** The catalog checks only that it is a name unlike `region`; the service checks it is configured. */
  secondaryRegion?: string | null;
}

/** Only the fields present are changed. */
export interface VaultChanges {
  quotaBytes?: number | null;
  softDeleteDays?: number;
  policy?: JsonObject | null;
  immutable?: boolean;
  /** null: no secondary any more. */
  secondaryRegion?: string | null;
  /**
   * Only when promoting the secondary region (its data is there already): a vault's
   * region is where its data lives, so it changes with nothing else.
   */
  region?: string;
}

/** Where the copy of a vault in its secondary region stood after the last replication cycle. */
export interface ReplicationStatusRow {
  vaultId: string;
  /** The secondary the row is about: a row for another region than the vault's is out of date. */
  secondaryRegion: string;
  /** When the cycle started listing: what the primary held then was compared. */
  listedAt: number;
  finishedAt: number;
  copiedObjects: number;
  copiedBytes: number;
  deletedObjects: number;
  /** What the cycle found missing from the secondary and could not copy (see problems). */
  pendingObjects: number;
  pendingBytes: number;
  /** When the oldest of those was written (a pack) or first found missing; null when none. */
  oldestPendingAt: number | null;
  /** listedAt of the newest cycle that left nothing pending: all the primary held then is copied. */
  syncedAt: number | null;
  problems: string[];
}

/** Packs counted together: how many, their bytes, and when the oldest was recorded (null: none). */
export interface PackTally {
  count: number;
  bytes: number;
  oldestAt: number | null;
}

/** A vault credentials file, known by the hash of its secret only. */
export interface CredentialsRow {
  id: string;
  vaultId: string;
  secretHash: string;
  issuedAt: number;
  /** Valid while now < expiresAt. */
  expiresAt: number;
  usedAt: number | null;
  /** Set when a newer file was issued for the same vault. */
  supersededAt: number | null;
}

export interface NewCredentials {
  vaultId: string;
  secretHash: string;
  issuedAt: number;
  expiresAt: number;
}

/** A client certificate an admin uploaded to a vault. */
export interface CertificateRow {
  id: string;
  vaultId: string;
  /** SHA-256 of the DER, 64 lowercase hex digits. */
  fingerprint256: string;
  subject: string;
  notAfter: number;
  uploadedAt: number;
  revokedAt: number | null;
}

export interface NewCertificate {
  vaultId: string;
  fingerprint256: string;
  subject: string;
  notAfter: number;
  uploadedAt: number;
}

/** A registered agent; mutual TLS pins its certificate's fingerprint to this row. */
export interface ServerRow {
  id: string;
  vaultId: string;
  name: string;
  certFingerprint: string;
  certNotAfter: number;
  via: RegistrationMethod;
  registeredAt: number;
  lastSeenAt: number | null;
}

export interface NewServer {
  /** As NewVault.id. */
  id?: string;
  vaultId: string;
  name: string;
  certFingerprint: string;
  certNotAfter: number;
  via: RegistrationMethod;
  registeredAt: number;
}

export interface ServerCertificate {
  certFingerprint: string;
  certNotAfter: number;
}

/** An uploaded pack object of one server's repository. */
export interface PackRow {
  serverId: string;
  /** Assigned by the catalog: 0, 1, 2, ... per server, never reused. Bitmaps index it. */
  seq: number;
  name: string;
  size: number;
  createdAt: number;
  condemnedAt: number | null;
  deletedAt: number | null;
}

export interface NewPack {
  serverId: string;
  name: string;
  size: number;
  createdAt: number;
}

export interface PointRow {
  id: string;
  serverId: string;
  vaultId: string;
  snapshotName: string;
  /** The snapshot's own time. */
  time: number;
  stats: JsonObject;
  packCount: number;
  committedAt: number;
  softDeletedAt: number | null;
  deletedAt: number | null;
}

export interface NewPoint {
  /** As NewVault.id. */
  id?: string;
  serverId: string;
  snapshotName: string;
  time: number;
  stats: JsonObject;
  /** Sequence numbers of the packs the point references (any order, duplicates allowed). */
  packSeqs: Iterable<number>;
  committedAt: number;
}

export interface PointListOptions {
  /** Default 'active'. */
  state?: PointState | 'all';
}

export interface JobRow {
  id: string;
  vaultId: string;
  serverId: string | null;
  /** backup, restore, compact, verify, failover, ...: the service owns the vocabulary. */
  kind: string;
  status: JobStatus;
  startedAt: number;
  endedAt: number | null;
  bytes: number;
  error: string | null;
  /** The first skipped files (the service bounds the list). */
  skippedFiles: JsonValue[];
  /** How many files were skipped in all; at least skippedFiles.length. */
  skippedCount: number;
}

export interface NewJob {
  /** A UUID the agent chose, so that a start sent twice makes one job; else a new one. */
  id?: string;
  vaultId: string;
  serverId: string | null;
  kind: string;
  startedAt: number;
}

/** Only the fields present are changed; leaving 'running' requires endedAt. */
export interface JobChanges {
  status?: JobStatus;
  endedAt?: number;
  bytes?: number;
  error?: string | null;
  skippedFiles?: JsonValue[];
  /** Default: skippedFiles.length when the list is given, else unchanged. */
  skippedCount?: number;
}

export interface JobListOptions {
  /** Default DEFAULT_JOB_LIST_LIMIT. */
  limit?: number;
  serverId?: string;
}

export interface AlertRow {
  id: string;
  vaultId: string;
  serverId: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  dedupeKey: string;
  raisedAt: number;
  /** Raising again while open bumps this, the count, the message and the severity. */
  lastRaisedAt: number;
  occurrences: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
}

export interface NewAlert {
  vaultId: string;
  serverId: string | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  /** At most one open (unresolved) alert per vault and key. */
  dedupeKey: string;
  raisedAt: number;
}

export interface RaisedAlert {
  alert: AlertRow;
  /** false: an open alert with the same key existed and was updated instead. */
  created: boolean;
}

export interface UserRow {
  id: string;
  name: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
}

export interface NewUser {
  name: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
}

export interface UserChanges {
  passwordHash?: string;
  role?: Role;
}

export interface TokenRow {
  id: string;
  tokenHash: string;
  name: string;
  role: Role;
  /** null: the token is not limited to one vault. */
  vaultId: string | null;
  createdAt: number;
  /** null: never expires. Valid while now < expiresAt. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** The user the token belongs to (a console session, or a token a user made); null: none. */
  userId: string | null;
}

export type NewToken = Omit<TokenRow, 'id' | 'revokedAt' | 'userId'> & { userId?: string | null };

/** One day of usage for a vault (serverId null) or for one of its servers. */
export interface UsageRow {
  vaultId: string;
  serverId: string | null;
  /** 'YYYY-MM-DD' (UTC). */
  day: string;
  protectedBytes: number;
  storedBytes: number;
  breakdown: JsonObject;
}

export interface UsageListOptions {
  /** undefined: every row; null: the vault totals only; a string: that server only. */
  serverId?: string | null;
}

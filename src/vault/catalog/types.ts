// The Catalog contract. Every backend (SQLite now, PostgreSQL later) implements it and
// passes ./catalog-suite.ts. Rows are plain data: ids are random UUID strings, times are
// milliseconds since the epoch, sizes are byte counts. Times are always arguments, never
// read from a clock here, so the service decides what "now" is and tests control it.

import type { LeaseRow } from './lease-types.ts';
import type { DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from './webhook-types.ts';

export * from './lease-types.ts';
export * from './webhook-types.ts';

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

/**
 * The vault's catalog: an accelerator and policy store beside blob storage, which stays
 * the source of truth. `get*` throws NotFoundError when the row is missing; `find*`
 * returns undefined. Writes are atomic one by one; `transaction` groups several.
 */
export interface Catalog {
  createVault(input: NewVault): Promise<VaultRow>;
  getVault(id: string): Promise<VaultRow>;
  /** Soft-deleted vaults are found too (their deletedAt is set). */
  getVaultByName(name: string): Promise<VaultRow>;
  /** By name; soft-deleted ones only when asked. */
  listVaults(options?: { includeDeleted?: boolean }): Promise<VaultRow[]>;
  updateVault(id: string, changes: VaultChanges): Promise<VaultRow>;
  /** Soft delete; deleting again keeps the first time. */
  deleteVault(id: string, at: number): Promise<VaultRow>;
  /** undefined until a replication cycle saved one for the vault. */
  findReplicationStatus(vaultId: string): Promise<ReplicationStatusRow | undefined>;
  /** Replaces the vault's row. */
  saveReplicationStatus(status: ReplicationStatusRow): Promise<ReplicationStatusRow>;

  /** Supersedes every earlier credentials file of the vault. */
  issueCredentials(input: NewCredentials): Promise<CredentialsRow>;
  /** Marks the file used if it is the newest, unexpired and unused; otherwise AuthError. */
  consumeCredentials(secretHash: string, now: number): Promise<CredentialsRow>;

  addCertificate(input: NewCertificate): Promise<CertificateRow>;
  /** Revoked certificates are found too (their revokedAt is set). */
  findCertificate(fingerprint256: string): Promise<CertificateRow | undefined>;
  listCertificates(vaultId: string): Promise<CertificateRow[]>;
  revokeCertificate(id: string, at: number): Promise<CertificateRow>;

  registerServer(input: NewServer): Promise<ServerRow>;
  getServer(id: string): Promise<ServerRow>;
  findServerByFingerprint(certFingerprint: string): Promise<ServerRow | undefined>;
  listServers(vaultId: string): Promise<ServerRow[]>;
  /** The old fingerprint stops matching at once. */
  renewServerCertificate(id: string, cert: ServerCertificate): Promise<ServerRow>;
  /** Never moves lastSeenAt backwards. */
  touchServer(id: string, at: number): Promise<void>;

  recordPack(input: NewPack): Promise<PackRow>;
  /** Prefers the pack that is not deleted when a name was recorded again after deletion. */
  findPack(serverId: string, name: string): Promise<PackRow | undefined>;
  /** By sequence number; deleted packs only when asked. */
  listPacks(serverId: string, options?: { includeDeleted?: boolean }): Promise<PackRow[]>;
  /** Each returns how many packs changed; deleted packs never change again. */
  condemnPacks(serverId: string, seqs: readonly number[], at: number): Promise<number>;
  uncondemnPacks(serverId: string, seqs: readonly number[]): Promise<number>;
  markPacksDeleted(serverId: string, seqs: readonly number[], at: number): Promise<number>;
  /** Bytes of the vault's packs that are not deleted (condemned ones still count). */
  vaultPackBytes(vaultId: string): Promise<number>;
  /** The vault's packs that are not deleted and were recorded at or after `since`. */
  packsRecordedSince(vaultId: string, since: number): Promise<PackTally>;

  /** Refuses references to packs never recorded or already deleted. */
  commitPoint(input: NewPoint): Promise<PointRow>;
  getPoint(id: string): Promise<PointRow>;
  /** The point's pack references, encoded as in ./bitmap.ts. */
  getPointPacks(id: string): Promise<Uint8Array>;
  /** Newest first. */
  listPoints(serverId: string, options?: PointListOptions): Promise<PointRow[]>;
  listVaultPoints(vaultId: string, options?: PointListOptions): Promise<PointRow[]>;
  softDeletePoint(id: string, at: number): Promise<PointRow>;
  undeletePoint(id: string): Promise<PointRow>;
  /** Its snapshot file is gone: it no longer holds packs and cannot come back. */
  markPointDeleted(id: string, at: number): Promise<PointRow>;
  /** Union of the pack bitmaps of the server's points that are not deleted (GC keeps these). */
  retainedPackBitmap(serverId: string): Promise<Uint8Array>;

  createJob(input: NewJob): Promise<JobRow>;
  getJob(id: string): Promise<JobRow>;
  /** A finished job cannot change any more. */
  updateJob(id: string, changes: JobChanges): Promise<JobRow>;
  /** Newest first. */
  listJobs(vaultId: string, options?: JobListOptions): Promise<JobRow[]>;

  /** Also queues one delivery per live webhook of the vault (see WebhookDeliveryRow). */
  raiseAlert(input: NewAlert): Promise<RaisedAlert>;
  getAlert(id: string): Promise<AlertRow>;
  /** The open (unresolved) alert of the vault with this key, if any. */
  findOpenAlert(vaultId: string, dedupeKey: string): Promise<AlertRow | undefined>;
  acknowledgeAlert(id: string, at: number): Promise<AlertRow>;
  resolveAlert(id: string, at: number): Promise<AlertRow>;
  /** Newest first; open means not resolved (acknowledged ones are still open). */
  listAlerts(vaultId: string, options?: { openOnly?: boolean }): Promise<AlertRow[]>;

  createUser(input: NewUser): Promise<UserRow>;
  getUser(id: string): Promise<UserRow>;
  findUserByName(name: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  updateUser(id: string, changes: UserChanges): Promise<UserRow>;

  createToken(input: NewToken): Promise<TokenRow>;
  /** Only a token that is neither revoked nor expired at `now`. */
  findToken(tokenHash: string, now: number): Promise<TokenRow | undefined>;
  /** Every token, or those scoped to one vault. */
  listTokens(options?: { vaultId?: string }): Promise<TokenRow[]>;
  revokeToken(id: string, at: number): Promise<TokenRow>;
  /** Revokes the user's tokens that are live at `at` (neither revoked nor expired); returns how many. */
  revokeUserTokens(userId: string, at: number): Promise<number>;

  /** Refuses soft-deleted vaults. */
  createWebhook(input: NewWebhook): Promise<WebhookRow>;
  /** Deleted webhooks are found too (their deletedAt is set). */
  getWebhook(id: string): Promise<WebhookRow>;
  /** The live webhooks of a vault, oldest first. */
  listWebhooks(vaultId: string): Promise<WebhookRow[]>;
  /** Deleting again keeps the first time; its pending deliveries are abandoned. */
  deleteWebhook(id: string, at: number): Promise<WebhookRow>;
  /**
   * Up to `limit` pending deliveries due at `now` (oldest first), each claimed until
   * `until`: if its sender dies, it is due again then, so nothing queued is lost.
   */
  claimWebhookDeliveries(now: number, until: number, limit: number): Promise<WebhookDeliveryRow[]>;
  /** Counts the attempt; a finished delivery cannot change (DELIVERY_FINISHED). */
  recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<WebhookDeliveryRow>;
  /** Newest first. */
  listWebhookDeliveries(webhookId: string, options?: { limit?: number }): Promise<WebhookDeliveryRow[]>;

  /** Inserts or replaces the row of (vault, server or null, day). */
  recordUsage(input: UsageRow): Promise<UsageRow>;
  /** Days fromDay..toDay inclusive, oldest first, vault totals before servers. */
  listUsage(vaultId: string, fromDay: string, toDay: string, options?: UsageListOptions): Promise<UsageRow[]>;

  /**
   * Takes the lease `name` for `holder` until `until` when it is free, has run out at
   * `now`, or is the holder's already (a renewal). Returns the lease as it stands after
   * the call: the caller has it only if its holder is the caller. Atomic, so of several
   * takers at once exactly one gets it.
   */
  takeLease(name: string, holder: string, now: number, until: number): Promise<LeaseRow>;
  /** Ends the holder's lease at `at`; false when it was not theirs or had run out. */
  releaseLease(name: string, holder: string, at: number): Promise<boolean>;
  /** Every lease ever taken (held or run out), by name. */
  listLeases(): Promise<LeaseRow[]>;

  /**
   * Runs fn atomically: everything it did through `tx` is kept if it resolves and undone
   * if it throws. Use `tx`, not this catalog, inside fn. Nested calls are savepoints.
   * A backend may run fn again after a serialization conflict (PostgreSQL), so fn must
   * change nothing but the catalog.
   */
  transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T>;
  /** Waits for a running transaction, then releases the database. */
  close(): Promise<void>;
}

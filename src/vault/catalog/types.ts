// The Catalog contract. Every backend (SQLite, PostgreSQL) implements it and passes
// ./catalog-suite.ts. Its rows are in ./rows.ts. Times are always arguments, never read
// from a clock here, so the service decides what "now" is and tests control it.

import type {
  AuditEntry,
  AuditHead,
  AuditListOptions,
  AuditPruned,
  NewAuditEntry,
  ProbeRow,
} from './audit-types.ts';
import type {
  AppliedPlan,
  NewPlan,
  NewRun,
  NewRunStep,
  PlanRow,
  RunChanges,
  RunListOptions,
  RunRow,
  RunStepRow,
  StepChanges,
  WorkloadDrill,
} from './dr-plan-types.ts';
import type {
  AppliedWorkload,
  CommandClaim,
  CommandOutcome,
  CommandRow,
  FencingRow,
  NewCommand,
  NewSite,
  NewSiteAgent,
  NewSiteCredentials,
  NewSiteReport,
  NewWorkload,
  ReplicationHealthRow,
  SiteAgentRow,
  SiteCredentialsRow,
  SiteReportRow,
  SiteRow,
  WorkloadRow,
} from './dr-types.ts';
import type { LeaseRow } from './lease-types.ts';
import type {
  AlertRow,
  CertificateRow,
  CredentialsRow,
  JobChanges,
  JobListOptions,
  JobRow,
  NewAlert,
  NewCertificate,
  NewCredentials,
  NewJob,
  NewPack,
  NewPoint,
  NewServer,
  NewToken,
  NewUser,
  NewVault,
  PackRow,
  PackTally,
  PointListOptions,
  PointRow,
  RaisedAlert,
  ReplicationStatusRow,
  ServerCertificate,
  ServerRow,
  TokenRow,
  UsageListOptions,
  UsageRow,
  UserChanges,
  UserRow,
  VaultChanges,
  VaultRow,
} from './rows.ts';
import type { DeliveryAttempt, NewWebhook, WebhookDeliveryRow, WebhookRow } from './webhook-types.ts';

export * from './audit-types.ts';
export * from './dr-plan-types.ts';
export * from './dr-types.ts';
export * from './lease-types.ts';
export * from './rows.ts';
export * from './webhook-types.ts';

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

  /** Refuses a name a live site has (SITE_EXISTS) and a deleted vault. */
  createSite(input: NewSite): Promise<SiteRow>;
  /** Deleted sites are found too (their deletedAt is set). */
  getSite(id: string): Promise<SiteRow>;
  /** Live sites only. */
  getSiteByName(name: string): Promise<SiteRow>;
  /** Live sites by name, every vault's or one vault's. */
  listSites(options?: { vaultId?: string }): Promise<SiteRow[]>;
  /** Refuses a site a workload uses (SITE_IN_USE); its agent is unregistered; again keeps the first time. */
  deleteSite(id: string, at: number): Promise<SiteRow>;
  /** Marks the site down since a time, or up (null). */
  setSiteDown(id: string, downSince: number | null): Promise<SiteRow>;
  /** Supersedes every earlier site credentials file of the site. */
  issueSiteCredentials(input: NewSiteCredentials): Promise<SiteCredentialsRow>;
  /** Marks the file used if it is the newest, unexpired and unused; otherwise AuthError. */
  consumeSiteCredentials(secretHash: string, now: number): Promise<SiteCredentialsRow>;
  /** Replaces the site's agent; a fingerprint another site agent or a server has is CERT_IN_USE. */
  registerSiteAgent(input: NewSiteAgent): Promise<SiteAgentRow>;
  findSiteAgentByFingerprint(certFingerprint: string): Promise<SiteAgentRow | undefined>;
  findSiteAgentOfSite(siteId: string): Promise<SiteAgentRow | undefined>;
  /** Creates or updates each (version + 1 when changed), all or nothing; a new one gets fencing epoch 1 at its primary. */
  applyWorkloads(inputs: readonly NewWorkload[], at: number): Promise<AppliedWorkload[]>;
  getWorkloadByName(name: string): Promise<WorkloadRow>;
  /** By name; a vault's, or those a site is primary or replica of, when asked. */
  listWorkloads(options?: { vaultId?: string; siteId?: string }): Promise<WorkloadRow[]>;
  /** A heartbeat: replaces the site's inventory and its health rows; lastHeartbeatAt never moves back. */
  recordSiteReport(input: NewSiteReport): Promise<SiteRow>;
  findSiteReport(siteId: string): Promise<SiteReportRow | undefined>;
  /** The workload's health as each of its sites last reported it. */
  listReplicationHealth(workloadId: string): Promise<ReplicationHealthRow[]>;
  getFencing(workloadId: string): Promise<FencingRow>;
  /** One more epoch, held by activeSiteId (the workload's primary or replica). */
  advanceFencing(workloadId: string, activeSiteId: string, at: number): Promise<FencingRow>;
  queueCommand(input: NewCommand): Promise<CommandRow>;
  /** Marks due commands sent and returns them, oldest first (see CommandClaim). */
  claimCommands(siteId: string, claim: CommandClaim): Promise<CommandRow[]>;
  getCommand(id: string): Promise<CommandRow>;
  /** Only the site's own command (else COMMAND_NOT_FOUND), once (else COMMAND_FINISHED). */
  finishCommand(id: string, siteId: string, outcome: CommandOutcome): Promise<CommandRow>;
  /** Newest first. */
  listCommands(siteId: string, options?: { limit?: number }): Promise<CommandRow[]>;

  /** Creates or updates each recovery plan (version + 1 when changed), all or nothing. */
  applyPlans(inputs: readonly NewPlan[], at: number): Promise<AppliedPlan[]>;
  getPlanByName(name: string): Promise<PlanRow>;
  getPlan(id: string): Promise<PlanRow>;
  listPlans(options?: { vaultId?: string }): Promise<PlanRow[]>;
  /** A run with its steps; RUN_IN_PROGRESS when another run holds one of its workloads. */
  createRun(input: NewRun): Promise<RunRow>;
  getRun(id: string): Promise<RunRow>;
  /** Newest first. */
  listRuns(options?: RunListOptions): Promise<RunRow[]>;
  /** Runs still running or cleaning up, oldest first. */
  listActiveRuns(): Promise<RunRow[]>;
  updateRun(id: string, changes: RunChanges): Promise<RunRow>;
  listRunSteps(runId: string): Promise<RunStepRow[]>;
  /** Only from changes.expectState (else STEP_CHANGED). */
  updateRunStep(runId: string, seq: number, changes: StepChanges): Promise<RunStepRow>;
  /** Appends steps after the run's last one. */
  addRunSteps(runId: string, steps: readonly NewRunStep[]): Promise<RunStepRow[]>;
  /** Swaps the workload's primary and replica sites (reverse replication); version + 1. */
  reverseWorkload(name: string, at: number): Promise<WorkloadRow>;
  /** Per workload, when its last successful test failover ended. */
  listWorkloadDrills(options?: { vaultId?: string }): Promise<WorkloadDrill[]>;

  /** Appends after the last entry, chained by hash; concurrent appends never fork the chain. */
  appendAudit(input: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first (by seq); filtered by afterSeq, since, vault. */
  listAudit(options?: AuditListOptions): Promise<AuditEntry[]>;
  auditHead(): Promise<AuditHead>;
  /** Deletes the entries before the first one at or after `before`; the first kept one becomes the anchor. */
  pruneAudit(before: number, at: number): Promise<AuditPruned>;
  /** Replaces the server's last region probe. */
  saveProbe(input: ProbeRow): Promise<ProbeRow>;
  /** The last probe of each server of the vault that has one. */
  listProbes(vaultId: string): Promise<ProbeRow[]>;

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

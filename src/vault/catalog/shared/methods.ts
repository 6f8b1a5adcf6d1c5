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
} from '../dr-plan-types.ts';
import type {
  AlertRow,
  AppliedWorkload,
  AuditEntry,
  AuditHead,
  AuditListOptions,
  AuditPruned,
  Catalog,
  CertificateRow,
  CommandClaim,
  CommandOutcome,
  CommandRow,
  CredentialsRow,
  DeliveryAttempt,
  FencingRow,
  JobChanges,
  JobListOptions,
  JobRow,
  LeaseRow,
  NewAlert,
  NewAuditEntry,
  NewCertificate,
  NewCommand,
  NewCredentials,
  NewJob,
  NewPack,
  NewPoint,
  NewServer,
  NewSite,
  NewSiteAgent,
  NewSiteCredentials,
  NewSiteReport,
  NewToken,
  NewUser,
  NewVault,
  NewWebhook,
  NewWorkload,
  PackRow,
  PackTally,
  PointListOptions,
  PointRow,
  ProbeRow,
  RaisedAlert,
  ReplicationHealthRow,
  ReplicationStatusRow,
  ServerCertificate,
  ServerRow,
  SiteAgentRow,
  SiteCredentialsRow,
  SiteReportRow,
  SiteRow,
  TokenRow,
  UsageListOptions,
  UsageRow,
  UserChanges,
  UserRow,
  VaultChanges,
  VaultRow,
  WebhookDeliveryRow,
  WebhookRow,
  WorkloadRow,
} from '../types.ts';

// The Catalog methods both backends delegate the same way: each passes its arguments, as
// they are, to the backend's operation of the same name (../sqlite/*.ts or
// ../postgres/*.ts), which takes the backend's database handle first. How a call runs
// (one connection and a scope, or a pool and retried transactions) is the backend's
// `call`; transactions and closing are its own too.

/** The Catalog methods that are operations on the database. */
export type Method = Exclude<keyof Catalog, 'transaction' | 'close'>;
/** What the Catalog method resolves to. */
export type Result<M extends Method> = Awaited<ReturnType<Catalog[M]>>;

/** A backend's operations whose statements run synchronously (node:sqlite). */
export type SyncOperations<Db> = { [M in Method]: (db: Db, ...args: Parameters<Catalog[M]>) => Result<M> };

/** A backend's operations that await their statements (pg). */
export type AsyncOperations<Db> = {
  [M in Method]: (db: Db, ...args: Parameters<Catalog[M]>) => Promise<Result<M>>;
};

export abstract class CatalogMethods implements Catalog {
  /** Runs the backend's operation `method` with these arguments. */
  protected abstract call<M extends Method>(method: M, ...args: Parameters<Catalog[M]>): Promise<Result<M>>;
  abstract transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T>;
  abstract close(): Promise<void>;

  createVault(input: NewVault): Promise<VaultRow> {
    return this.call('createVault', input);
  }
  getVault(id: string): Promise<VaultRow> {
    return this.call('getVault', id);
  }
  getVaultByName(name: string): Promise<VaultRow> {
    return this.call('getVaultByName', name);
  }
  listVaults(options?: { includeDeleted?: boolean }): Promise<VaultRow[]> {
    return this.call('listVaults', options);
  }
  updateVault(id: string, changes: VaultChanges): Promise<VaultRow> {
    return this.call('updateVault', id, changes);
  }
  deleteVault(id: string, at: number): Promise<VaultRow> {
    return this.call('deleteVault', id, at);
  }
  findReplicationStatus(vaultId: string): Promise<ReplicationStatusRow | undefined> {
    return this.call('findReplicationStatus', vaultId);
  }
  saveReplicationStatus(status: ReplicationStatusRow): Promise<ReplicationStatusRow> {
    return this.call('saveReplicationStatus', status);
  }

  issueCredentials(input: NewCredentials): Promise<CredentialsRow> {
    return this.call('issueCredentials', input);
  }
  consumeCredentials(secretHash: string, now: number): Promise<CredentialsRow> {
    return this.call('consumeCredentials', secretHash, now);
  }

  addCertificate(input: NewCertificate): Promise<CertificateRow> {
    return this.call('addCertificate', input);
  }
  findCertificate(fingerprint256: string): Promise<CertificateRow | undefined> {
    return this.call('findCertificate', fingerprint256);
  }
  listCertificates(vaultId: string): Promise<CertificateRow[]> {
    return this.call('listCertificates', vaultId);
  }
  revokeCertificate(id: string, at: number): Promise<CertificateRow> {
    return this.call('revokeCertificate', id, at);
  }

  registerServer(input: NewServer): Promise<ServerRow> {
    return this.call('registerServer', input);
  }
  getServer(id: string): Promise<ServerRow> {
    return this.call('getServer', id);
  }
  findServerByFingerprint(certFingerprint: string): Promise<ServerRow | undefined> {
    return this.call('findServerByFingerprint', certFingerprint);
  }
  listServers(vaultId: string): Promise<ServerRow[]> {
    return this.call('listServers', vaultId);
  }
  renewServerCertificate(id: string, cert: ServerCertificate): Promise<ServerRow> {
    return this.call('renewServerCertificate', id, cert);
  }
  touchServer(id: string, at: number): Promise<void> {
    return this.call('touchServer', id, at);
  }

  recordPack(input: NewPack): Promise<PackRow> {
    return this.call('recordPack', input);
  }
  findPack(serverId: string, name: string): Promise<PackRow | undefined> {
    return this.call('findPack', serverId, name);
  }
  listPacks(serverId: string, options?: { includeDeleted?: boolean }): Promise<PackRow[]> {
    return this.call('listPacks', serverId, options);
  }
  condemnPacks(serverId: string, seqs: readonly number[], at: number): Promise<number> {
    return this.call('condemnPacks', serverId, seqs, at);
  }
  uncondemnPacks(serverId: string, seqs: readonly number[]): Promise<number> {
    return this.call('uncondemnPacks', serverId, seqs);
  }
  markPacksDeleted(serverId: string, seqs: readonly number[], at: number): Promise<number> {
    return this.call('markPacksDeleted', serverId, seqs, at);
  }
  vaultPackBytes(vaultId: string): Promise<number> {
    return this.call('vaultPackBytes', vaultId);
  }
  packsRecordedSince(vaultId: string, since: number): Promise<PackTally> {
    return this.call('packsRecordedSince', vaultId, since);
  }

  commitPoint(input: NewPoint): Promise<PointRow> {
    return this.call('commitPoint', input);
  }
  getPoint(id: string): Promise<PointRow> {
    return this.call('getPoint', id);
  }
  getPointPacks(id: string): Promise<Uint8Array> {
    return this.call('getPointPacks', id);
  }
  listPoints(serverId: string, options?: PointListOptions): Promise<PointRow[]> {
    return this.call('listPoints', serverId, options);
  }
  listVaultPoints(vaultId: string, options?: PointListOptions): Promise<PointRow[]> {
    return this.call('listVaultPoints', vaultId, options);
  }
  softDeletePoint(id: string, at: number): Promise<PointRow> {
    return this.call('softDeletePoint', id, at);
  }
  undeletePoint(id: string): Promise<PointRow> {
    return this.call('undeletePoint', id);
  }
  markPointDeleted(id: string, at: number): Promise<PointRow> {
    return this.call('markPointDeleted', id, at);
  }
  retainedPackBitmap(serverId: string): Promise<Uint8Array> {
    return this.call('retainedPackBitmap', serverId);
  }

  createJob(input: NewJob): Promise<JobRow> {
    return this.call('createJob', input);
  }
  getJob(id: string): Promise<JobRow> {
    return this.call('getJob', id);
  }
  updateJob(id: string, changes: JobChanges): Promise<JobRow> {
    return this.call('updateJob', id, changes);
  }
  listJobs(vaultId: string, options?: JobListOptions): Promise<JobRow[]> {
    return this.call('listJobs', vaultId, options);
  }

  raiseAlert(input: NewAlert): Promise<RaisedAlert> {
    return this.call('raiseAlert', input);
  }
  getAlert(id: string): Promise<AlertRow> {
    return this.call('getAlert', id);
  }
  findOpenAlert(vaultId: string, dedupeKey: string): Promise<AlertRow | undefined> {
    return this.call('findOpenAlert', vaultId, dedupeKey);
  }
  acknowledgeAlert(id: string, at: number): Promise<AlertRow> {
    return this.call('acknowledgeAlert', id, at);
  }
  resolveAlert(id: string, at: number): Promise<AlertRow> {
    return this.call('resolveAlert', id, at);
  }
  listAlerts(vaultId: string, options?: { openOnly?: boolean }): Promise<AlertRow[]> {
    return this.call('listAlerts', vaultId, options);
  }

  createUser(input: NewUser): Promise<UserRow> {
    return this.call('createUser', input);
  }
  getUser(id: string): Promise<UserRow> {
    return this.call('getUser', id);
  }
  findUserByName(name: string): Promise<UserRow | undefined> {
    return this.call('findUserByName', name);
  }
  listUsers(): Promise<UserRow[]> {
    return this.call('listUsers');
  }
  updateUser(id: string, changes: UserChanges): Promise<UserRow> {
    return this.call('updateUser', id, changes);
  }
  createToken(input: NewToken): Promise<TokenRow> {
    return this.call('createToken', input);
  }
  findToken(tokenHash: string, now: number): Promise<TokenRow | undefined> {
    return this.call('findToken', tokenHash, now);
  }
  listTokens(options?: { vaultId?: string }): Promise<TokenRow[]> {
    return this.call('listTokens', options);
  }
  revokeToken(id: string, at: number): Promise<TokenRow> {
    return this.call('revokeToken', id, at);
  }
  revokeUserTokens(userId: string, at: number): Promise<number> {
    return this.call('revokeUserTokens', userId, at);
  }

  createWebhook(input: NewWebhook): Promise<WebhookRow> {
    return this.call('createWebhook', input);
  }
  getWebhook(id: string): Promise<WebhookRow> {
    return this.call('getWebhook', id);
  }
  listWebhooks(vaultId: string): Promise<WebhookRow[]> {
    return this.call('listWebhooks', vaultId);
  }
  deleteWebhook(id: string, at: number): Promise<WebhookRow> {
    return this.call('deleteWebhook', id, at);
  }
  claimWebhookDeliveries(now: number, until: number, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.call('claimWebhookDeliveries', now, until, limit);
  }
  recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<WebhookDeliveryRow> {
    return this.call('recordDeliveryAttempt', id, attempt);
  }
  listWebhookDeliveries(webhookId: string, options?: { limit?: number }): Promise<WebhookDeliveryRow[]> {
    return this.call('listWebhookDeliveries', webhookId, options);
  }

  recordUsage(input: UsageRow): Promise<UsageRow> {
    return this.call('recordUsage', input);
  }
  listUsage(
    vaultId: string,
    fromDay: string,
    toDay: string,
    options?: UsageListOptions,
  ): Promise<UsageRow[]> {
    return this.call('listUsage', vaultId, fromDay, toDay, options);
  }

  takeLease(name: string, holder: string, now: number, until: number): Promise<LeaseRow> {
    return this.call('takeLease', name, holder, now, until);
  }
  releaseLease(name: string, holder: string, at: number): Promise<boolean> {
    return this.call('releaseLease', name, holder, at);
  }
  listLeases(): Promise<LeaseRow[]> {
    return this.call('listLeases');
  }

  createSite(input: NewSite): Promise<SiteRow> {
    return this.call('createSite', input);
  }
  getSite(id: string): Promise<SiteRow> {
    return this.call('getSite', id);
  }
  getSiteByName(name: string): Promise<SiteRow> {
    return this.call('getSiteByName', name);
  }
  listSites(options?: { vaultId?: string }): Promise<SiteRow[]> {
    return this.call('listSites', options);
  }
  deleteSite(id: string, at: number): Promise<SiteRow> {
    return this.call('deleteSite', id, at);
  }
  setSiteDown(id: string, downSince: number | null): Promise<SiteRow> {
    return this.call('setSiteDown', id, downSince);
  }
  issueSiteCredentials(input: NewSiteCredentials): Promise<SiteCredentialsRow> {
    return this.call('issueSiteCredentials', input);
  }
  consumeSiteCredentials(secretHash: string, now: number): Promise<SiteCredentialsRow> {
    return this.call('consumeSiteCredentials', secretHash, now);
  }
  registerSiteAgent(input: NewSiteAgent): Promise<SiteAgentRow> {
    return this.call('registerSiteAgent', input);
  }
  findSiteAgentByFingerprint(certFingerprint: string): Promise<SiteAgentRow | undefined> {
    return this.call('findSiteAgentByFingerprint', certFingerprint);
  }
  findSiteAgentOfSite(siteId: string): Promise<SiteAgentRow | undefined> {
    return this.call('findSiteAgentOfSite', siteId);
  }
  applyWorkloads(inputs: readonly NewWorkload[], at: number): Promise<AppliedWorkload[]> {
    return this.call('applyWorkloads', inputs, at);
  }
  getWorkloadByName(name: string): Promise<WorkloadRow> {
    return this.call('getWorkloadByName', name);
  }
  listWorkloads(options?: { vaultId?: string; siteId?: string }): Promise<WorkloadRow[]> {
    return this.call('listWorkloads', options);
  }
  recordSiteReport(input: NewSiteReport): Promise<SiteRow> {
    return this.call('recordSiteReport', input);
  }
  findSiteReport(siteId: string): Promise<SiteReportRow | undefined> {
    return this.call('findSiteReport', siteId);
  }
  listReplicationHealth(workloadId: string): Promise<ReplicationHealthRow[]> {
    return this.call('listReplicationHealth', workloadId);
  }
  getFencing(workloadId: string): Promise<FencingRow> {
    return this.call('getFencing', workloadId);
  }
  advanceFencing(workloadId: string, activeSiteId: string, at: number): Promise<FencingRow> {
    return this.call('advanceFencing', workloadId, activeSiteId, at);
  }
  queueCommand(input: NewCommand): Promise<CommandRow> {
    return this.call('queueCommand', input);
  }
  claimCommands(siteId: string, claim: CommandClaim): Promise<CommandRow[]> {
    return this.call('claimCommands', siteId, claim);
  }
  getCommand(id: string): Promise<CommandRow> {
    return this.call('getCommand', id);
  }
  finishCommand(id: string, siteId: string, outcome: CommandOutcome): Promise<CommandRow> {
    return this.call('finishCommand', id, siteId, outcome);
  }
  listCommands(siteId: string, options?: { limit?: number }): Promise<CommandRow[]> {
    return this.call('listCommands', siteId, options);
  }

  applyPlans(inputs: readonly NewPlan[], at: number): Promise<AppliedPlan[]> {
    return this.call('applyPlans', inputs, at);
  }
  getPlanByName(name: string): Promise<PlanRow> {
    return this.call('getPlanByName', name);
  }
  getPlan(id: string): Promise<PlanRow> {
    return this.call('getPlan', id);
  }
  listPlans(options?: { vaultId?: string }): Promise<PlanRow[]> {
    return this.call('listPlans', options);
  }
  createRun(input: NewRun): Promise<RunRow> {
    return this.call('createRun', input);
  }
  getRun(id: string): Promise<RunRow> {
    return this.call('getRun', id);
  }
  listRuns(options?: RunListOptions): Promise<RunRow[]> {
    return this.call('listRuns', options);
  }
  listActiveRuns(): Promise<RunRow[]> {
    return this.call('listActiveRuns');
  }
  updateRun(id: string, changes: RunChanges): Promise<RunRow> {
    return this.call('updateRun', id, changes);
  }
  listRunSteps(runId: string): Promise<RunStepRow[]> {
    return this.call('listRunSteps', runId);
  }
  updateRunStep(runId: string, seq: number, changes: StepChanges): Promise<RunStepRow> {
    return this.call('updateRunStep', runId, seq, changes);
  }
  addRunSteps(runId: string, steps: readonly NewRunStep[]): Promise<RunStepRow[]> {
    return this.call('addRunSteps', runId, steps);
  }
  reverseWorkload(name: string, at: number): Promise<WorkloadRow> {
    return this.call('reverseWorkload', name, at);
  }
  listWorkloadDrills(options?: { vaultId?: string }): Promise<WorkloadDrill[]> {
    return this.call('listWorkloadDrills', options);
  }

  appendAudit(input: NewAuditEntry): Promise<AuditEntry> {
    return this.call('appendAudit', input);
  }
  listAudit(options?: AuditListOptions): Promise<AuditEntry[]> {
    return this.call('listAudit', options);
  }
  auditHead(): Promise<AuditHead> {
    return this.call('auditHead');
  }
  pruneAudit(before: number, at: number): Promise<AuditPruned> {
    return this.call('pruneAudit', before, at);
  }
  saveProbe(input: ProbeRow): Promise<ProbeRow> {
    return this.call('saveProbe', input);
  }
  listProbes(vaultId: string): Promise<ProbeRow[]> {
    return this.call('listProbes', vaultId);
  }
}

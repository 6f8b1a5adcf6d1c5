import { DatabaseSync } from 'node:sqlite';
import { BadInputError, IntegrityError, isOffsiteError, OffsiteError } from '../../errors/index.ts';
import * as alerts from './sqlite/alerts.ts';
import * as certificates from './sqlite/certificates.ts';
import * as credentials from './sqlite/credentials.ts';
import { Db } from './sqlite/db.ts';
import * as jobs from './sqlite/jobs.ts';
import { migrate } from './sqlite/migrate.ts';
import * as packs from './sqlite/packs.ts';
import * as people from './sqlite/people.ts';
import * as points from './sqlite/points.ts';
import { Scope } from './sqlite/scope.ts';
import * as servers from './sqlite/servers.ts';
import * as usage from './sqlite/usage.ts';
import * as vaults from './sqlite/vaults.ts';
import * as webhooks from './sqlite/webhooks.ts';
import type {
  AlertRow,
  Catalog,
  CertificateRow,
  CredentialsRow,
  DeliveryAttempt,
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
  NewWebhook,
  PackRow,
  PointListOptions,
  PointRow,
  RaisedAlert,
  ServerCertificate,
  ServerRow,
  TokenRow,
  UsageListOptions,
  UsageRow,
  UserChanges,
  UserRow,
  VaultChanges,
  VaultRow,
  WebhookDeliveryRow,
  WebhookRow,
} from './types.ts';

export interface SqliteCatalogOptions {
  /** How long a write waits for another process's lock before failing; default 5 s. */
  busyTimeoutMs?: number;
}

/** SQLITE_NOTADB: the file exists but is not an SQLite database. */
const SQLITE_NOTADB = 26;

/** The connection shared by a catalog and the transactions started from it. */
interface Connection {
  db: Db;
  closed: boolean;
}

/**
 * The embedded catalog: one `node:sqlite` connection in WAL mode with foreign keys on.
 * Calls are synchronous underneath; transaction(fn) keeps other callers out while fn
 * runs (see ./sqlite/scope.ts). Open with `SqliteCatalog.open(path)` or `.memory()`.
 */
export class SqliteCatalog implements Catalog {
  readonly #connection: Connection;
  readonly #scope: Scope;
  /** The migration versions applied when this catalog was opened (empty if none were due). */
  readonly migrationsApplied: readonly number[];

  private constructor(connection: Connection, scope: Scope, migrationsApplied: readonly number[]) {
    this.#connection = connection;
    this.#scope = scope;
    this.migrationsApplied = migrationsApplied;
  }

  /** Opens (creating if needed) the catalog file and brings its schema up to date. */
  static open(path: string, options: SqliteCatalogOptions = {}): SqliteCatalog {
    let raw: DatabaseSync | undefined;
    try {
      raw = new DatabaseSync(path, {
        enableForeignKeyConstraints: true,
        timeout: options.busyTimeoutMs ?? 5000,
      });
      // Readers never block the writer, and a crash mid-write never damages the file.
      raw.exec('PRAGMA journal_mode = WAL');
      const db = new Db(raw);
      const applied = migrate(db, Date.now());
      return new SqliteCatalog({ db, closed: false }, new Scope(), applied);
    } catch (err) {
      raw?.close();
      throw openFailure(path, err);
    }
  }

  /** A private database that vanishes on close: for tests. */
  static memory(): SqliteCatalog {
    return SqliteCatalog.open(':memory:');
  }

  /** Runs a synchronous operation once no transaction of another caller is running. */
  #call<T>(op: (db: Db) => T): Promise<T> {
    return this.#scope.run(() => {
      if (this.#connection.closed) throw closedError();
      return op(this.#connection.db);
    });
  }

  createVault(input: NewVault): Promise<VaultRow> {
    return this.#call((db) => vaults.createVault(db, input));
  }
  getVault(id: string): Promise<VaultRow> {
    return this.#call((db) => vaults.getVault(db, id));
  }
  getVaultByName(name: string): Promise<VaultRow> {
    return this.#call((db) => vaults.getVaultByName(db, name));
  }
  listVaults(options?: { includeDeleted?: boolean }): Promise<VaultRow[]> {
    return this.#call((db) => vaults.listVaults(db, options?.includeDeleted ?? false));
  }
  updateVault(id: string, changes: VaultChanges): Promise<VaultRow> {
    return this.#call((db) => vaults.updateVault(db, id, changes));
  }
  deleteVault(id: string, at: number): Promise<VaultRow> {
    return this.#call((db) => vaults.deleteVault(db, id, at));
  }

  issueCredentials(input: NewCredentials): Promise<CredentialsRow> {
    return this.#call((db) => credentials.issueCredentials(db, input));
  }
  consumeCredentials(secretHash: string, now: number): Promise<CredentialsRow> {
    return this.#call((db) => credentials.consumeCredentials(db, secretHash, now));
  }

  addCertificate(input: NewCertificate): Promise<CertificateRow> {
    return this.#call((db) => certificates.addCertificate(db, input));
  }
  findCertificate(fingerprint256: string): Promise<CertificateRow | undefined> {
    return this.#call((db) => certificates.findCertificate(db, fingerprint256));
  }
  listCertificates(vaultId: string): Promise<CertificateRow[]> {
    return this.#call((db) => certificates.listCertificates(db, vaultId));
  }
  revokeCertificate(id: string, at: number): Promise<CertificateRow> {
    return this.#call((db) => certificates.revokeCertificate(db, id, at));
  }

  registerServer(input: NewServer): Promise<ServerRow> {
    return this.#call((db) => servers.registerServer(db, input));
  }
  getServer(id: string): Promise<ServerRow> {
    return this.#call((db) => servers.getServer(db, id));
  }
  findServerByFingerprint(certFingerprint: string): Promise<ServerRow | undefined> {
    return this.#call((db) => servers.findServerByFingerprint(db, certFingerprint));
  }
  listServers(vaultId: string): Promise<ServerRow[]> {
    return this.#call((db) => servers.listServers(db, vaultId));
  }
  renewServerCertificate(id: string, cert: ServerCertificate): Promise<ServerRow> {
    return this.#call((db) => servers.renewServerCertificate(db, id, cert));
  }
  touchServer(id: string, at: number): Promise<void> {
    return this.#call((db) => servers.touchServer(db, id, at));
  }

  recordPack(input: NewPack): Promise<PackRow> {
    return this.#call((db) => packs.recordPack(db, input));
  }
  findPack(serverId: string, name: string): Promise<PackRow | undefined> {
    return this.#call((db) => packs.findPack(db, serverId, name));
  }
  listPacks(serverId: string, options?: { includeDeleted?: boolean }): Promise<PackRow[]> {
    return this.#call((db) => packs.listPacks(db, serverId, options?.includeDeleted ?? false));
  }
  condemnPacks(serverId: string, seqs: readonly number[], at: number): Promise<number> {
    return this.#call((db) => packs.condemnPacks(db, serverId, seqs, at));
  }
  uncondemnPacks(serverId: string, seqs: readonly number[]): Promise<number> {
    return this.#call((db) => packs.uncondemnPacks(db, serverId, seqs));
  }
  markPacksDeleted(serverId: string, seqs: readonly number[], at: number): Promise<number> {
    return this.#call((db) => packs.markPacksDeleted(db, serverId, seqs, at));
  }
  vaultPackBytes(vaultId: string): Promise<number> {
    return this.#call((db) => packs.vaultPackBytes(db, vaultId));
  }

  commitPoint(input: NewPoint): Promise<PointRow> {
    return this.#call((db) => points.commitPoint(db, input));
  }
  getPoint(id: string): Promise<PointRow> {
    return this.#call((db) => points.getPoint(db, id));
  }
  getPointPacks(id: string): Promise<Uint8Array> {
    return this.#call((db) => points.getPointPacks(db, id));
  }
  listPoints(serverId: string, options?: PointListOptions): Promise<PointRow[]> {
    return this.#call((db) => points.listPoints(db, serverId, options));
  }
  listVaultPoints(vaultId: string, options?: PointListOptions): Promise<PointRow[]> {
    return this.#call((db) => points.listVaultPoints(db, vaultId, options));
  }
  softDeletePoint(id: string, at: number): Promise<PointRow> {
    return this.#call((db) => points.softDeletePoint(db, id, at));
  }
  undeletePoint(id: string): Promise<PointRow> {
    return this.#call((db) => points.undeletePoint(db, id));
  }
  markPointDeleted(id: string, at: number): Promise<PointRow> {
    return this.#call((db) => points.markPointDeleted(db, id, at));
  }
  retainedPackBitmap(serverId: string): Promise<Uint8Array> {
    return this.#call((db) => points.retainedPackBitmap(db, serverId));
  }

  createJob(input: NewJob): Promise<JobRow> {
    return this.#call((db) => jobs.createJob(db, input));
  }
  getJob(id: string): Promise<JobRow> {
    return this.#call((db) => jobs.getJob(db, id));
  }
  updateJob(id: string, changes: JobChanges): Promise<JobRow> {
    return this.#call((db) => jobs.updateJob(db, id, changes));
  }
  listJobs(vaultId: string, options?: JobListOptions): Promise<JobRow[]> {
    return this.#call((db) => jobs.listJobs(db, vaultId, options));
  }

  raiseAlert(input: NewAlert): Promise<RaisedAlert> {
    return this.#call((db) => alerts.raiseAlert(db, input));
  }
  getAlert(id: string): Promise<AlertRow> {
    return this.#call((db) => alerts.getAlert(db, id));
  }
  findOpenAlert(vaultId: string, dedupeKey: string): Promise<AlertRow | undefined> {
    return this.#call((db) => alerts.findOpenAlert(db, vaultId, dedupeKey));
  }
  acknowledgeAlert(id: string, at: number): Promise<AlertRow> {
    return this.#call((db) => alerts.acknowledgeAlert(db, id, at));
  }
  resolveAlert(id: string, at: number): Promise<AlertRow> {
    return this.#call((db) => alerts.resolveAlert(db, id, at));
  }
  listAlerts(vaultId: string, options?: { openOnly?: boolean }): Promise<AlertRow[]> {
    return this.#call((db) => alerts.listAlerts(db, vaultId, options?.openOnly ?? false));
  }

  createUser(input: NewUser): Promise<UserRow> {
    return this.#call((db) => people.createUser(db, input));
  }
  getUser(id: string): Promise<UserRow> {
    return this.#call((db) => people.getUser(db, id));
  }
  findUserByName(name: string): Promise<UserRow | undefined> {
    return this.#call((db) => people.findUserByName(db, name));
  }
  listUsers(): Promise<UserRow[]> {
    return this.#call((db) => people.listUsers(db));
  }
  updateUser(id: string, changes: UserChanges): Promise<UserRow> {
    return this.#call((db) => people.updateUser(db, id, changes));
  }
  createToken(input: NewToken): Promise<TokenRow> {
    return this.#call((db) => people.createToken(db, input));
  }
  findToken(tokenHash: string, now: number): Promise<TokenRow | undefined> {
    return this.#call((db) => people.findToken(db, tokenHash, now));
  }
  listTokens(options?: { vaultId?: string }): Promise<TokenRow[]> {
    return this.#call((db) => people.listTokens(db, options?.vaultId));
  }
  revokeToken(id: string, at: number): Promise<TokenRow> {
    return this.#call((db) => people.revokeToken(db, id, at));
  }
  revokeUserTokens(userId: string, at: number): Promise<number> {
    return this.#call((db) => people.revokeUserTokens(db, userId, at));
  }

  createWebhook(input: NewWebhook): Promise<WebhookRow> {
    return this.#call((db) => webhooks.createWebhook(db, input));
  }
  getWebhook(id: string): Promise<WebhookRow> {
    return this.#call((db) => webhooks.getWebhook(db, id));
  }
  listWebhooks(vaultId: string): Promise<WebhookRow[]> {
    return this.#call((db) => webhooks.listWebhooks(db, vaultId));
  }
  deleteWebhook(id: string, at: number): Promise<WebhookRow> {
    return this.#call((db) => webhooks.deleteWebhook(db, id, at));
  }
  claimWebhookDeliveries(now: number, until: number, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.#call((db) => webhooks.claimWebhookDeliveries(db, now, until, limit));
  }
  recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<WebhookDeliveryRow> {
    return this.#call((db) => webhooks.recordDeliveryAttempt(db, id, attempt));
  }
  listWebhookDeliveries(webhookId: string, options?: { limit?: number }): Promise<WebhookDeliveryRow[]> {
    return this.#call((db) => webhooks.listWebhookDeliveries(db, webhookId, options?.limit));
  }

  recordUsage(input: UsageRow): Promise<UsageRow> {
    return this.#call((db) => usage.recordUsage(db, input));
  }
  listUsage(
    vaultId: string,
    fromDay: string,
    toDay: string,
    options?: UsageListOptions,
  ): Promise<UsageRow[]> {
    return this.#call((db) => usage.listUsage(db, vaultId, fromDay, toDay, options));
  }

  transaction<T>(fn: (tx: Catalog) => Promise<T>): Promise<T> {
    const { db } = this.#connection;
    return this.#scope.nest(
      () => {
        if (this.#connection.closed) throw closedError();
        db.begin();
      },
      (scope) => fn(new SqliteCatalog(this.#connection, scope, this.migrationsApplied)),
      (ok) => (ok ? db.commit() : db.rollback()),
    );
  }

  async close(): Promise<void> {
    if (this.#scope.parent) {
      throw new OffsiteError('internal', 'CATALOG_TX_MISUSE', 'a transaction cannot close the catalog');
    }
    await this.#scope.run(() => {
      if (this.#connection.closed) return;
      this.#connection.closed = true;
      this.#connection.db.close();
    });
  }
}

function closedError(): OffsiteError {
  return new OffsiteError('internal', 'CATALOG_CLOSED', 'the catalog is closed');
}

function openFailure(path: string, err: unknown): unknown {
  if (isOffsiteError(err)) return err;
  const errcode = (err as { errcode?: unknown }).errcode;
  const detail = err instanceof Error ? err.message : String(err);
  if (errcode === SQLITE_NOTADB) {
    return new IntegrityError('CATALOG_CORRUPT', `the catalog at ${path} is not an SQLite database`, {
      cause: err,
      object: path,
      hint: 'check the configured catalog path; restore the file from a backup or rebuild it from storage',
    });
  }
  return new BadInputError('CATALOG_OPEN_FAILED', `cannot open the catalog at ${path}: ${detail}`, {
    cause: err,
    hint: 'check that the folder exists and is writable by the vault server',
  });
}

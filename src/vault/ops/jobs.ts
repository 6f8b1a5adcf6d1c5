import { ConflictError, NotFoundError } from '../../errors/index.ts';
import type { Catalog, JobChanges, JobRow, JobStatus, ServerRow, VaultRow } from '../catalog/index.ts';
import { JOB_STATUSES } from '../catalog/index.ts';
import { backupOutcomeAlerts } from './alerts.ts';
import { bad, clip, fields, iso, isoTime, wholeNumber } from './input.ts';

// Jobs agents report: they start one, update it, end it. An agent sees only its own jobs.
// The list of skipped files is bounded (the first MAX_SKIPPED_FILES, each cut to a
// length) while the count keeps them all. A backup is reported complete only after its
// recovery point is committed (DESIGN.md §2.4).

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_SKIPPED_FILES = 1000;
const MAX_SKIPPED_PATH = 1024;
const MAX_SKIPPED_ERROR = 256;
const MAX_JOB_ERROR = 2000;
/** Agents' clocks may run a little ahead of the vault's. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface SkippedFile {
  path: string;
  error: string;
}

export interface JobCaller {
  server: ServerRow;
  vault: VaultRow;
}

export interface JobStart {
  /** Chosen by the agent (a UUID) so that a start sent twice is one job. */
  id?: string;
  kind: string;
  startedAt: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseJobStart(body: unknown, now: number): JobStart {
  const input = fields(body, ['id', 'kind', 'startedAt'], '{id?, kind, startedAt?}');
  if (input.id !== undefined && (typeof input.id !== 'string' || !UUID.test(input.id))) {
    throw bad('id', 'a lowercase UUID chosen by the agent');
  }
  if (typeof input.kind !== 'string' || !KIND.test(input.kind)) {
    throw bad('kind', 'backup, restore, compact, verify, ... (lowercase letters, digits and -)');
  }
  const startedAt = input.startedAt === undefined ? now : isoTime('startedAt', input.startedAt);
  if (startedAt > now + CLOCK_SKEW_MS) throw bad('startedAt', 'must not be in the future');
  return { ...(input.id !== undefined ? { id: input.id as string } : {}), kind: input.kind, startedAt };
}

function skippedEntry(value: unknown, i: number): SkippedFile {
  const entry = fields(value, ['path', 'error'], `{path, error} at skippedFiles[${i}]`);
  if (typeof entry.path !== 'string' || entry.path === '') throw bad(`skippedFiles[${i}].path`, 'a path');
  if (typeof entry.error !== 'string') throw bad(`skippedFiles[${i}].error`, 'why it was skipped');
  return { path: clip(entry.path, MAX_SKIPPED_PATH), error: clip(entry.error, MAX_SKIPPED_ERROR) };
}

/** The first MAX_SKIPPED_FILES entries, each bounded, and how many were skipped in all. */
export function boundSkippedFiles(list: unknown, count: unknown): { files: SkippedFile[]; count: number } {
  if (!Array.isArray(list)) throw bad('skippedFiles', 'a list of {path, error}');
  const files = list.slice(0, MAX_SKIPPED_FILES).map(skippedEntry);
  const declared = count === undefined ? 0 : wholeNumber('skippedCount', count, 0, Number.MAX_SAFE_INTEGER);
  return { files, count: Math.max(declared, list.length) };
}

/** One line, bounded; control characters (multi-line messages) become spaces. */
function jobError(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw bad('error', 'a message, or null');
  const line = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line === '' ? null : clip(line, MAX_JOB_ERROR);
}

export function parseJobReport(body: unknown, now: number): JobChanges {
  const allowed = ['status', 'endedAt', 'bytes', 'error', 'skippedFiles', 'skippedCount'];
  const input = fields(body, allowed, '{status, endedAt?, bytes?, error?, skippedFiles?, skippedCount?}');
  if (!JOB_STATUSES.includes(input.status as JobStatus))
    throw bad('status', `one of ${JOB_STATUSES.join(', ')}`);
  const status = input.status as JobStatus;
  if (status === 'running' && input.endedAt !== undefined) throw bad('endedAt', 'only when the job ends');
  const changes: JobChanges = { status };
  if (status !== 'running')
    changes.endedAt = input.endedAt === undefined ? now : isoTime('endedAt', input.endedAt);
  if (input.bytes !== undefined)
    changes.bytes = wholeNumber('bytes', input.bytes, 0, Number.MAX_SAFE_INTEGER);
  if (input.error !== undefined) changes.error = jobError(input.error);
  if (input.skippedFiles !== undefined) {
    const bounded = boundSkippedFiles(input.skippedFiles, input.skippedCount);
    changes.skippedFiles = bounded.files as unknown as JobChanges['skippedFiles'];
    changes.skippedCount = bounded.count;
  } else if (input.skippedCount !== undefined) {
    throw bad('skippedCount', 'only with skippedFiles');
  }
  return changes;
}

/**
 * A start carrying the id the agent chose is idempotent: when the answer to the first one
 * was lost, the retry (or the final report from the journal) finds the same job instead
 * of leaving a duplicate "running" forever.
 */
export async function startJob(catalog: Catalog, caller: JobCaller, input: JobStart): Promise<JobRow> {
  if (input.id !== undefined) {
    const existing = await catalog.getJob(input.id).catch(() => undefined);
    if (existing) return sameJob(existing, caller, input);
  }
  return catalog.createJob({ vaultId: caller.vault.id, serverId: caller.server.id, ...input });
}

function sameJob(job: JobRow, caller: JobCaller, input: JobStart): JobRow {
  if (job.serverId === caller.server.id && job.kind === input.kind) return job;
  throw new ConflictError('JOB_ID_TAKEN', `job id ${input.id} is already used by another job`, {
    hint: 'start the job with a new random id (a UUID)',
  });
}

function jobNotFound(id: string): NotFoundError {
  return new NotFoundError('JOB_NOT_FOUND', `no job with id ${id}`);
}

async function requireCommittedPoint(tx: Catalog, job: JobRow): Promise<void> {
  const points = await tx.listPoints(job.serverId!, { state: 'all' });
  if (points.some((p) => p.committedAt >= job.startedAt - CLOCK_SKEW_MS)) return;
  throw new ConflictError(
    'BACKUP_NOT_COMMITTED',
    `backup job ${job.id} cannot be reported complete: no recovery point was committed since it started`,
    { hint: 'commit the recovery point first; report the job failed if the backup did not complete' },
  );
}

/** Updates the caller's own job; another server's job is "not found". Raises or resolves alerts. */
export function reportJob(
  catalog: Catalog,
  caller: JobCaller,
  id: string,
  changes: JobChanges,
  now: number,
): Promise<JobRow> {
  return catalog.transaction(async (tx) => {
    const job = await tx.getJob(id);
    if (job.serverId !== caller.server.id) throw jobNotFound(id);
    const completes = changes.status === 'succeeded' || changes.status === 'warning';
    if (job.kind === 'backup' && job.status === 'running' && completes) await requireCommittedPoint(tx, job);
    const updated = await tx.updateJob(id, changes);
    await backupOutcomeAlerts(tx, updated, caller.server.name, now);
    return updated;
  });
}

/** A job of this vault, or "not found". */
export async function jobOfVault(catalog: Catalog, vaultId: string, id: string): Promise<JobRow> {
  const job = await catalog.getJob(id);
  if (job.vaultId !== vaultId) throw jobNotFound(id);
  return job;
}

export function parseJobQuery(query: URLSearchParams): { server: string | undefined; limit: number } {
  const limit = query.get('limit');
  if (limit !== null && !/^\d{1,4}$/.test(limit)) throw bad('limit', 'a whole number from 1 to 1000');
  return {
    server: query.get('server') || undefined,
    limit: limit === null ? 100 : wholeNumber('limit', Number(limit), 1, 1000),
  };
}

export async function listVaultJobs(
  catalog: Catalog,
  vault: VaultRow,
  query: { server: string | undefined; limit: number },
): Promise<JobRow[]> {
  if (query.server === undefined) return catalog.listJobs(vault.id, { limit: query.limit });
  const server = (await catalog.listServers(vault.id)).find((s) => s.name === query.server);
  if (!server)
    throw new NotFoundError('SERVER_NOT_FOUND', `vault ${vault.name} has no server named "${query.server}"`);
  return catalog.listJobs(vault.id, { limit: query.limit, serverId: server.id });
}

export function jobJson(job: JobRow, serverNames: ReadonlyMap<string, string>, detail = false) {
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    server: job.serverId === null ? null : (serverNames.get(job.serverId) ?? job.serverId),
    startedAt: iso(job.startedAt),
    endedAt: iso(job.endedAt),
    durationMs: job.endedAt === null ? null : job.endedAt - job.startedAt,
    bytes: job.bytes,
    error: job.error,
    skippedCount: job.skippedCount,
    ...(detail
      ? { skippedFiles: job.skippedFiles, skippedFilesOmitted: job.skippedCount - job.skippedFiles.length }
      : {}),
  };
}

import { randomUUID } from 'node:crypto';
import { BadInputError, ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { JobChanges, JobListOptions, JobRow, NewJob } from '../types.ts';
import { DEFAULT_JOB_LIST_LIMIT, JOB_STATUSES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, str } from './columns.ts';
import type { Db, Row } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

const COLUMNS =
  'id, vault_id, server_id, kind, status, started_at, ended_at, bytes, error, skipped_files, skipped_count';

function toJob(row: Row): JobRow {
  const skippedFiles = check.parseArray(str(row, 'skipped_files'));
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    serverId: optStr(row, 'server_id'),
    kind: str(row, 'kind'),
    status: check.oneOf('status', str(row, 'status'), JOB_STATUSES),
    startedAt: num(row, 'started_at'),
    endedAt: optNum(row, 'ended_at'),
    bytes: num(row, 'bytes'),
    error: optStr(row, 'error'),
    skippedFiles,
    // Jobs from before the count existed (migration 2) hold 0 there.
    skippedCount: Math.max(num(row, 'skipped_count'), skippedFiles.length),
  };
}

export function createJob(db: Db, input: NewJob): JobRow {
  const kind = check.text('kind', input.kind);
  const startedAt = check.whole('startedAt', input.startedAt);
  return db.atomic(() => {
    getVault(db, input.vaultId);
    if (input.serverId !== null) getServerOfVault(db, input.serverId, input.vaultId);
    const row = db.get(
      `INSERT INTO jobs (${COLUMNS}) VALUES (?, ?, ?, ?, 'running', ?, NULL, 0, NULL, '[]', 0) RETURNING ${COLUMNS}`,
      randomUUID(),
      input.vaultId,
      input.serverId,
      kind,
      startedAt,
    );
    return toJob(row!);
  });
}

export function getJob(db: Db, id: string): JobRow {
  const row = db.get(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`, id);
  if (!row) throw new NotFoundError('JOB_NOT_FOUND', `no job with id ${id}`);
  return toJob(row);
}

export function updateJob(db: Db, id: string, changes: JobChanges): JobRow {
  return db.atomic(() => {
    const job = getJob(db, id);
    if (job.status !== 'running') {
      throw new ConflictError('JOB_FINISHED', `job ${id} already ended with status ${job.status}`);
    }
    const next = mergeJob(job, changes);
    const row = db.get(
      `UPDATE jobs SET status = ?, ended_at = ?, bytes = ?, error = ?, skipped_files = ?, skipped_count = ?
       WHERE id = ? RETURNING ${COLUMNS}`,
      next.status,
      next.endedAt,
      next.bytes,
      next.error,
      next.skippedFiles,
      next.skippedCount,
      id,
    );
    return toJob(row!);
  });
}

/** Validates the changes against the job as stored; the JSON list comes back as text. */
function mergeJob(job: JobRow, changes: JobChanges) {
  const status = check.oneOf('status', changes.status ?? job.status, JOB_STATUSES);
  const endedAt = check.optionalWhole('endedAt', changes.endedAt ?? job.endedAt);
  if ((status === 'running') !== (endedAt === null)) {
    throw new BadInputError('BAD_FIELD', 'endedAt: required when a job ends, and only then');
  }
  if (endedAt !== null && endedAt < job.startedAt) {
    throw new BadInputError('BAD_FIELD', 'endedAt: must not be before startedAt');
  }
  const skipped = changes.skippedFiles ?? job.skippedFiles;
  const skippedFiles = check.jsonArray('skippedFiles', skipped);
  const skippedCount = check.whole(
    'skippedCount',
    changes.skippedCount ?? (changes.skippedFiles ? skipped.length : job.skippedCount),
  );
  if (skippedCount < skipped.length) {
    throw new BadInputError('BAD_FIELD', 'skippedCount: must be at least the number of skippedFiles');
  }
  return {
    status,
    endedAt,
    bytes: check.whole('bytes', changes.bytes ?? job.bytes),
    error: check.optionalLongText('error', changes.error === undefined ? job.error : changes.error),
    skippedFiles,
    skippedCount,
  };
}

export function listJobs(db: Db, vaultId: string, options?: JobListOptions): JobRow[] {
  const limit = check.limit(options?.limit ?? DEFAULT_JOB_LIST_LIMIT);
  getVault(db, vaultId);
  const order = `ORDER BY started_at DESC, id LIMIT ?`;
  if (options?.serverId === undefined) {
    return db.all(`SELECT ${COLUMNS} FROM jobs WHERE vault_id = ? ${order}`, vaultId, limit).map(toJob);
  }
  return db
    .all(
      `SELECT ${COLUMNS} FROM jobs WHERE vault_id = ? AND server_id = ? ${order}`,
      vaultId,
      options.serverId,
      limit,
    )
    .map(toJob);
}

import { BadInputError, ConflictError, NotFoundError } from '../../../errors/index.ts';
import type { JobChanges, JobListOptions, JobRow, NewJob } from '../types.ts';
import { DEFAULT_JOB_LIST_LIMIT, JOB_STATUSES } from '../types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The jobs table as both backends see it: columns, rows as objects, checked input and the
// errors of its operations. The SQL that reads and writes it is each backend's own.

export const JOB_COLUMNS =
  'id, vault_id, server_id, kind, status, started_at, ended_at, bytes, error, skipped_files, skipped_count';

export function toJob(row: Row): JobRow {
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

/** The checked values of a new job: id, vault_id, server_id, kind and started_at. */
export function newJobValues(input: NewJob) {
  const kind = check.text('kind', input.kind);
  const startedAt = check.whole('startedAt', input.startedAt);
  return [check.idOrNew(input.id), input.vaultId, input.serverId, kind, startedAt] as const;
}

export function jobNotFound(id: string): NotFoundError {
  return new NotFoundError('JOB_NOT_FOUND', `no job with id ${id}`);
}

/**
 * status, ended_at, bytes, error, skipped_files and skipped_count after the changes,
 * checked against the job as stored. A job that ended cannot change any more.
 */
export function changedJob(job: JobRow, changes: JobChanges) {
  if (job.status !== 'running') {
    throw new ConflictError('JOB_FINISHED', `job ${job.id} already ended with status ${job.status}`);
  }
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
  return [
    status,
    endedAt,
    check.whole('bytes', changes.bytes ?? job.bytes),
    check.optionalLongText('error', changes.error === undefined ? job.error : changes.error),
    skippedFiles,
    skippedCount,
  ] as const;
}

/** How many jobs a list returns at most. */
export function jobListLimit(options: JobListOptions | undefined): number {
  return check.limit(options?.limit ?? DEFAULT_JOB_LIST_LIMIT);
}

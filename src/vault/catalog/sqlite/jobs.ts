import * as shared from '../shared/jobs.ts';
import type { JobChanges, JobListOptions, JobRow, NewJob } from '../types.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

const COLUMNS = shared.JOB_COLUMNS;

export function createJob(db: Db, input: NewJob): JobRow {
  const values = shared.newJobValues(input);
  return db.atomic(() => {
    getVault(db, input.vaultId);
    if (input.serverId !== null) getServerOfVault(db, input.serverId, input.vaultId);
    const row = db.get(
      `INSERT INTO jobs (${COLUMNS}) VALUES (?, ?, ?, ?, 'running', ?, NULL, 0, NULL, '[]', 0) RETURNING ${COLUMNS}`,
      ...values,
    );
    return shared.toJob(row!);
  });
}

export function getJob(db: Db, id: string): JobRow {
  const row = db.get(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`, id);
  if (!row) throw shared.jobNotFound(id);
  return shared.toJob(row);
}

export function updateJob(db: Db, id: string, changes: JobChanges): JobRow {
  return db.atomic(() => {
    const next = shared.changedJob(getJob(db, id), changes);
    const row = db.get(
      `UPDATE jobs SET status = ?, ended_at = ?, bytes = ?, error = ?, skipped_files = ?, skipped_count = ?
       WHERE id = ? RETURNING ${COLUMNS}`,
      ...next,
      id,
    );
    return shared.toJob(row!);
  });
}

export function listJobs(db: Db, vaultId: string, options?: JobListOptions): JobRow[] {
  const limit = shared.jobListLimit(options);
  getVault(db, vaultId);
  const order = `ORDER BY started_at DESC, id LIMIT ?`;
  if (options?.serverId === undefined) {
    return db
      .all(`SELECT ${COLUMNS} FROM jobs WHERE vault_id = ? ${order}`, vaultId, limit)
      .map(shared.toJob);
  }
  return db
    .all(
      `SELECT ${COLUMNS} FROM jobs WHERE vault_id = ? AND server_id = ? ${order}`,
      vaultId,
      options.serverId,
      limit,
    )
    .map(shared.toJob);
}

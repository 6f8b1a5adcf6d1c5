import * as shared from '../shared/jobs.ts';
import type { JobChanges, JobListOptions, JobRow, NewJob } from '../types.ts';
import type { Db } from './db.ts';
import { getServerOfVault } from './servers.ts';
import { getVault } from './vaults.ts';

const COLUMNS = shared.JOB_COLUMNS;

export async function createJob(db: Db, input: NewJob): Promise<JobRow> {
  const values = shared.newJobValues(input);
  return db.atomic(async (db) => {
    await getVault(db, input.vaultId);
    if (input.serverId !== null) await getServerOfVault(db, input.serverId, input.vaultId);
    const row = await db.get(
      `INSERT INTO jobs (${COLUMNS}) VALUES ($1, $2, $3, $4, 'running', $5, NULL, 0, NULL, '[]', 0)
       RETURNING ${COLUMNS}`,
      ...values,
    );
    return shared.toJob(row!);
  });
}

export async function getJob(db: Db, id: string): Promise<JobRow> {
  const row = await db.get(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, id);
  if (!row) throw shared.jobNotFound(id);
  return shared.toJob(row);
}

export async function updateJob(db: Db, id: string, changes: JobChanges): Promise<JobRow> {
  return db.atomic(async (db) => {
    const next = shared.changedJob(await getJob(db, id), changes);
    const row = await db.get(
      `UPDATE jobs SET status = $1, ended_at = $2, bytes = $3, error = $4, skipped_files = $5, skipped_count = $6
       WHERE id = $7 RETURNING ${COLUMNS}`,
      ...next,
      id,
    );
    return shared.toJob(row!);
  });
}

export async function listJobs(db: Db, vaultId: string, options?: JobListOptions): Promise<JobRow[]> {
  const limit = shared.jobListLimit(options);
  await getVault(db, vaultId);
  const order = 'ORDER BY started_at DESC, id COLLATE "C"';
  if (options?.serverId === undefined) {
    const rows = await db.all(
      `SELECT ${COLUMNS} FROM jobs WHERE vault_id = $1 ${order} LIMIT $2`,
      vaultId,
      limit,
    );
    return rows.map(shared.toJob);
  }
  const rows = await db.all(
    `SELECT ${COLUMNS} FROM jobs WHERE vault_id = $1 AND server_id = $2 ${order} LIMIT $3`,
    vaultId,
    options.serverId,
    limit,
  );
  return rows.map(shared.toJob);
}

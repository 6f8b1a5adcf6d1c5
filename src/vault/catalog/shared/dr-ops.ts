import { randomUUID } from 'node:crypto';
import { BadInputError } from '../../../errors/index.ts';
import type {
  AppliedWorkload,
  CommandClaim,
  CommandOutcome,
  CommandRow,
  FencingRow,
  NewCommand,
  NewSiteReport,
  NewWorkload,
  ReplicationHealthRow,
  SiteReportRow,
  SiteRow,
  WorkloadRow,
} from '../dr-types.ts';
import * as check from '../validate.ts';
import { getSite, liveSite } from './dr.ts';
import * as rows from './dr-rows.ts';
import { all, get, type Operation, run } from './dr-steps.ts';

// Workloads, site reports, fencing epochs and commands (see ./dr.ts for how these run).

const MAX_KIND = 50;
const DEFAULT_COMMAND_LIST = 50;

// ---- workloads

function* checkedSites(input: NewWorkload): Operation<void> {
  if (input.primarySiteId === input.replicaSiteId) {
    throw new BadInputError('BAD_FIELD', 'replicaSiteId: must differ from the primary site');
  }
  for (const id of [input.primarySiteId, input.replicaSiteId]) {
    const site = yield* liveSite(id);
    if (site.vaultId !== input.vaultId) {
      throw new BadInputError('BAD_FIELD', `site "${site.name}" belongs to another vault than the workload`);
    }
  }
}

function* applyOne(input: NewWorkload, at: number): Operation<AppliedWorkload> {
  const name = check.text('name', input.name, 100);
  const spec = check.jsonObject('spec', input.spec);
  yield* checkedSites(input);
  const existing = yield* findWorkload(name);
  if (existing && existing.vaultId !== input.vaultId) throw rows.workloadOfOtherVault(name);
  if (!existing) {
    const id = randomUUID();
    yield* run(
      `INSERT INTO dr_workloads (${rows.WORKLOAD_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
      id,
      input.vaultId,
      name,
      spec,
      input.primarySiteId,
      input.replicaSiteId,
      at,
      at,
    );
    // Epoch 1 belongs to the primary: its agent may run the workload from the start.
    yield* run(
      `INSERT INTO dr_fencing (${rows.FENCING_COLUMNS}) VALUES (?, 1, ?, ?)`,
      id,
      input.primarySiteId,
      at,
    );
    return { workload: yield* getWorkloadByName(name), change: 'created' };
  }
  const same =
    JSON.stringify(existing.spec) === spec &&
    existing.primarySiteId === input.primarySiteId &&
    existing.replicaSiteId === input.replicaSiteId;
  if (same) return { workload: existing, change: 'unchanged' };
  yield* run(
    `UPDATE dr_workloads SET spec = ?, version = version + 1, primary_site_id = ?, replica_site_id = ?, updated_at = ?
     WHERE id = ?`,
    spec,
    input.primarySiteId,
    input.replicaSiteId,
    at,
    existing.id,
  );
  // Moved away from the site that may run it: the new primary takes a new epoch, so the
  // old site's agent holds a stale one and never starts it again.
  yield* run(
    `UPDATE dr_fencing SET epoch = epoch + 1, active_site_id = ?, changed_at = ?
     WHERE workload_id = ? AND active_site_id <> ? AND active_site_id <> ?`,
    input.primarySiteId,
    at,
    existing.id,
    input.primarySiteId,
    input.replicaSiteId,
  );
  return { workload: yield* getWorkloadByName(name), change: 'updated' };
}

/** All or nothing: one bad workload leaves every one as it was. */
export function* applyWorkloads(inputs: readonly NewWorkload[], at: number): Operation<AppliedWorkload[]> {
  check.whole('at', at);
  const names = new Set<string>();
  const applied: AppliedWorkload[] = [];
  for (const input of inputs) {
    if (names.has(input.name)) throw new BadInputError('BAD_FIELD', `name: "${input.name}" is given twice`);
    names.add(input.name);
    applied.push(yield* applyOne(input, at));
  }
  return applied;
}

function* findWorkload(name: string): Operation<WorkloadRow | undefined> {
  const row = yield* get(`SELECT ${rows.WORKLOAD_COLUMNS} FROM dr_workloads WHERE name = ?`, name);
  return row && rows.toWorkload(row);
}

export function* getWorkloadByName(name: string): Operation<WorkloadRow> {
  const workload = yield* findWorkload(name);
  if (!workload) throw rows.workloadNotFound(name);
  return workload;
}

/** By name; only a vault's, or only those a site runs or replicates, when asked. */
export function* listWorkloads(options?: { vaultId?: string; siteId?: string }): Operation<WorkloadRow[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (options?.vaultId !== undefined) {
    where.push('vault_id = ?');
    params.push(options.vaultId);
  }
  if (options?.siteId !== undefined) {
    where.push('(primary_site_id = ? OR replica_site_id = ?)');
    params.push(options.siteId, options.siteId);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const found = yield* all(
    `SELECT ${rows.WORKLOAD_COLUMNS} FROM dr_workloads ${filter} ORDER BY name`,
    ...params,
  );
  return found.map(rows.toWorkload);
}

// ---- site reports and replication health

function healthValues(h: NewSiteReport['health'][number]) {
  return [
    check.optionalWhole('lastPointAt', h.lastPointAt),
    h.lastPointId === null ? null : check.text('lastPointId', h.lastPointId),
    check.boolean('consistent', h.consistent) ? 1 : 0,
    check.optionalWhole('lagMs', h.lagMs),
    check.optionalLongText('error', h.error),
  ] as const;
}

/** A heartbeat: the inventory replaces the last one, each workload's health its last. */
export function* recordSiteReport(input: NewSiteReport): Operation<SiteRow> {
  const at = check.whole('at', input.at);
  const inventory = check.jsonObject('inventory', input.inventory);
  const health = input.health.map((h) => ({ id: h.workloadId, values: healthValues(h) }));
  yield* liveSite(input.siteId);
  for (const { id } of health) {
    const workload = yield* get('SELECT primary_site_id, replica_site_id FROM dr_workloads WHERE id = ?', id);
    if (
      !workload ||
      (workload.primary_site_id !== input.siteId && workload.replica_site_id !== input.siteId)
    ) {
      throw new BadInputError('BAD_FIELD', `health: workload ${id} is not one of this site's`);
    }
  }
  yield* run(
    `UPDATE dr_sites SET last_heartbeat_at = ?
     WHERE id = ? AND (last_heartbeat_at IS NULL OR last_heartbeat_at < ?)`,
    at,
    input.siteId,
    at,
  );
  yield* run('DELETE FROM dr_site_reports WHERE site_id = ?', input.siteId);
  yield* run(
    'INSERT INTO dr_site_reports (site_id, reported_at, inventory) VALUES (?, ?, ?)',
    input.siteId,
    at,
    inventory,
  );
  for (const { id, values } of health) {
    yield* run('DELETE FROM dr_replication_health WHERE workload_id = ? AND site_id = ?', id, input.siteId);
    yield* run(
      `INSERT INTO dr_replication_health (${rows.HEALTH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.siteId,
      at,
      ...values,
    );
  }
  return yield* getSite(input.siteId);
}

export function* findSiteReport(siteId: string): Operation<SiteReportRow | undefined> {
  const row = yield* get(
    'SELECT site_id, reported_at, inventory FROM dr_site_reports WHERE site_id = ?',
    siteId,
  );
  return row && rows.toSiteReport(row);
}

/** The workload's health as each of its sites last reported it, by site id. */
export function* listReplicationHealth(workloadId: string): Operation<ReplicationHealthRow[]> {
  const found = yield* all(
    `SELECT ${rows.HEALTH_COLUMNS} FROM dr_replication_health WHERE workload_id = ? ORDER BY site_id`,
    workloadId,
  );
  return found.map(rows.toHealth);
}

// ---- fencing

export function* getFencing(workloadId: string): Operation<FencingRow> {
  const row = yield* get(`SELECT ${rows.FENCING_COLUMNS} FROM dr_fencing WHERE workload_id = ?`, workloadId);
  if (!row) throw rows.workloadNotFound(workloadId);
  return rows.toFencing(row);
}

/** A new epoch for the site that may run the workload now; every older epoch is stale. */
export function* advanceFencing(workloadId: string, activeSiteId: string, at: number): Operation<FencingRow> {
  check.whole('at', at);
  yield* getFencing(workloadId);
  const workload = yield* get(
    'SELECT primary_site_id, replica_site_id FROM dr_workloads WHERE id = ?',
    workloadId,
  );
  if (workload?.primary_site_id !== activeSiteId && workload?.replica_site_id !== activeSiteId) {
    throw new BadInputError('BAD_FIELD', "activeSiteId: must be the workload's primary or replica site");
  }
  yield* run(
    'UPDATE dr_fencing SET epoch = epoch + 1, active_site_id = ?, changed_at = ? WHERE workload_id = ?',
    activeSiteId,
    at,
    workloadId,
  );
  return yield* getFencing(workloadId);
}

// ---- commands

export function* queueCommand(input: NewCommand): Operation<CommandRow> {
  const kind = check.text('kind', input.kind, MAX_KIND);
  const payload = check.jsonObject('payload', input.payload);
  const createdAt = check.whole('createdAt', input.createdAt);
  yield* liveSite(input.siteId);
  const row = yield* get(
    `INSERT INTO dr_commands (${rows.COMMAND_COLUMNS}) VALUES (?, ?, ?, ?, 'queued', NULL, ?, NULL, NULL)
     RETURNING ${rows.COMMAND_COLUMNS}`,
    randomUUID(),
    input.siteId,
    kind,
    payload,
    createdAt,
  );
  return rows.toCommand(row!);
}

/** The site's queued commands (and sent ones unfinished since resendSentBefore), oldest first, now sent. */
export function* claimCommands(siteId: string, claim: CommandClaim): Operation<CommandRow[]> {
  const now = check.whole('now', claim.now);
  const resend = check.whole('resendSentBefore', claim.resendSentBefore);
  const limit = check.limit(claim.limit);
  yield* getSite(siteId);
  const due = yield* all(
    `SELECT id FROM dr_commands
     WHERE site_id = ? AND (state = 'queued' OR (state = 'sent' AND sent_at < ?))
     ORDER BY created_at, id LIMIT ?`,
    siteId,
    resend,
    limit,
  );
  const sent: CommandRow[] = [];
  for (const { id } of due) {
    const row = yield* get(
      `UPDATE dr_commands SET state = 'sent', sent_at = ? WHERE id = ? RETURNING ${rows.COMMAND_COLUMNS}`,
      now,
      String(id),
    );
    sent.push(rows.toCommand(row!));
  }
  return sent;
}

export function* getCommand(id: string): Operation<CommandRow> {
  const row = yield* get(`SELECT ${rows.COMMAND_COLUMNS} FROM dr_commands WHERE id = ?`, id);
  if (!row) throw rows.commandNotFound(id);
  return rows.toCommand(row);
}

/** Another site's command is "not found": a site agent learns nothing of other sites. */
export function* finishCommand(id: string, siteId: string, outcome: CommandOutcome): Operation<CommandRow> {
  const state = check.oneOf('state', outcome.state, ['succeeded', 'failed'] as const);
  const result = check.jsonObject('result', outcome.result);
  const at = check.whole('at', outcome.at);
  const row = yield* get(
    `SELECT ${rows.COMMAND_COLUMNS} FROM dr_commands WHERE id = ? AND site_id = ?`,
    id,
    siteId,
  );
  if (!row) throw rows.commandNotFound(id);
  const command = rows.toCommand(row);
  if (command.state === 'succeeded' || command.state === 'failed') throw rows.commandFinished(command);
  yield* run(
    'UPDATE dr_commands SET state = ?, result = ?, finished_at = ? WHERE id = ?',
    state,
    result,
    at,
    id,
  );
  return yield* getCommand(id);
}

/** Newest first. */
export function* listCommands(siteId: string, options?: { limit?: number }): Operation<CommandRow[]> {
  const limit = check.limit(options?.limit ?? DEFAULT_COMMAND_LIST);
  yield* getSite(siteId);
  const found = yield* all(
    `SELECT ${rows.COMMAND_COLUMNS} FROM dr_commands WHERE site_id = ? ORDER BY created_at DESC, id LIMIT ?`,
    siteId,
    limit,
  );
  return found.map(rows.toCommand);
}

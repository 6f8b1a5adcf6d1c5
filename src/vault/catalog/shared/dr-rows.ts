import { AuthError, ConflictError, NotFoundError } from '../../../errors/index.ts';
import type {
  CommandRow,
  FencingRow,
  ReplicationHealthRow,
  SiteAgentRow,
  SiteCredentialsRow,
  SiteReportRow,
  SiteRow,
  WorkloadRow,
} from '../dr-types.ts';
import { COMMAND_STATES } from '../dr-types.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';

// The disaster-recovery tables (migration 5) as both backends see them: columns, rows as
// objects and the errors of their operations. ./dr.ts holds the operations themselves.

export const SITE_COLUMNS = 'id, vault_id, name, created_at, last_heartbeat_at, down_since, deleted_at';
export const SITE_CREDENTIALS_COLUMNS = 'id, site_id, issued_at, expires_at, used_at, superseded_at';
export const SITE_AGENT_COLUMNS = 'id, site_id, cert_fingerprint, cert_not_after, registered_at';
export const WORKLOAD_COLUMNS =
  'id, vault_id, name, spec, version, primary_site_id, replica_site_id, created_at, updated_at';
export const HEALTH_COLUMNS =
  'workload_id, site_id, reported_at, last_point_at, last_point_id, consistent, lag_ms, error';
export const FENCING_COLUMNS = 'workload_id, epoch, active_site_id, changed_at';
export const COMMAND_COLUMNS = 'id, site_id, kind, payload, state, result, created_at, sent_at, finished_at';

export function toSite(row: Row): SiteRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    name: str(row, 'name'),
    createdAt: num(row, 'created_at'),
    lastHeartbeatAt: optNum(row, 'last_heartbeat_at'),
    downSince: optNum(row, 'down_since'),
    deletedAt: optNum(row, 'deleted_at'),
  };
}

export function toSiteCredentials(row: Row): SiteCredentialsRow {
  return {
    id: str(row, 'id'),
    siteId: str(row, 'site_id'),
    issuedAt: num(row, 'issued_at'),
    expiresAt: num(row, 'expires_at'),
    usedAt: optNum(row, 'used_at'),
    supersededAt: optNum(row, 'superseded_at'),
  };
}

export function toSiteAgent(row: Row): SiteAgentRow {
  return {
    id: str(row, 'id'),
    siteId: str(row, 'site_id'),
    certFingerprint: str(row, 'cert_fingerprint'),
    certNotAfter: num(row, 'cert_not_after'),
    registeredAt: num(row, 'registered_at'),
  };
}

export function toWorkload(row: Row): WorkloadRow {
  return {
    id: str(row, 'id'),
    vaultId: str(row, 'vault_id'),
    name: str(row, 'name'),
    spec: check.parseObject(str(row, 'spec')),
    version: num(row, 'version'),
    primarySiteId: str(row, 'primary_site_id'),
    replicaSiteId: str(row, 'replica_site_id'),
    createdAt: num(row, 'created_at'),
    updatedAt: num(row, 'updated_at'),
  };
}

export function toSiteReport(row: Row): SiteReportRow {
  return {
    siteId: str(row, 'site_id'),
    reportedAt: num(row, 'reported_at'),
    inventory: check.parseObject(str(row, 'inventory')),
  };
}

export function toHealth(row: Row): ReplicationHealthRow {
  return {
    workloadId: str(row, 'workload_id'),
    siteId: str(row, 'site_id'),
    reportedAt: num(row, 'reported_at'),
    lastPointAt: optNum(row, 'last_point_at'),
    lastPointId: optStr(row, 'last_point_id'),
    consistent: num(row, 'consistent') === 1,
    lagMs: optNum(row, 'lag_ms'),
    error: optStr(row, 'error'),
  };
}

export function toFencing(row: Row): FencingRow {
  return {
    workloadId: str(row, 'workload_id'),
    epoch: num(row, 'epoch'),
    activeSiteId: str(row, 'active_site_id'),
    changedAt: num(row, 'changed_at'),
  };
}

export function toCommand(row: Row): CommandRow {
  const result = optStr(row, 'result');
  return {
    id: str(row, 'id'),
    siteId: str(row, 'site_id'),
    kind: str(row, 'kind'),
    payload: check.parseObject(str(row, 'payload')),
    state: check.oneOf('state', str(row, 'state'), COMMAND_STATES),
    result: result === null ? null : check.parseObject(result),
    createdAt: num(row, 'created_at'),
    sentAt: optNum(row, 'sent_at'),
    finishedAt: optNum(row, 'finished_at'),
  };
}

export function siteNotFound(what: string): NotFoundError {
  return new NotFoundError('SITE_NOT_FOUND', `no site ${what}`, {
    hint: 'list the sites with `offsite site list`',
  });
}

export function siteExists(name: string): ConflictError {
  return new ConflictError('SITE_EXISTS', `a site named "${name}" exists already`);
}

export function siteDeleted(site: SiteRow): ConflictError {
  return new ConflictError('SITE_DELETED', `the site "${site.name}" is deleted`);
}

export function siteInUse(site: SiteRow, workloads: readonly string[]): ConflictError {
  return new ConflictError(
    'SITE_IN_USE',
    `the site "${site.name}" is the primary or replica site of ${workloads.join(', ')}`,
    { hint: 'move those workloads to other sites with `offsite dr apply` first' },
  );
}

export function workloadNotFound(name: string): NotFoundError {
  return new NotFoundError('WORKLOAD_NOT_FOUND', `no workload named "${name}"`, {
    hint: 'see the workloads with `offsite dr status`',
  });
}

export function workloadOfOtherVault(name: string): ConflictError {
  return new ConflictError('WORKLOAD_NAME_TAKEN', `the workload name "${name}" is used in another vault`, {
    hint: 'workload names are unique on the server: choose another name',
  });
}

export function commandNotFound(id: string): NotFoundError {
  return new NotFoundError('COMMAND_NOT_FOUND', `no command ${id} for this site`);
}

export function commandFinished(command: CommandRow): ConflictError {
  return new ConflictError('COMMAND_FINISHED', `command ${command.id} has ${command.state} already`);
}

export function certificateInUse(): ConflictError {
  return new ConflictError('CERT_IN_USE', 'this certificate identifies another site agent or server');
}

const NEW_FILE_HINT = 'make a new one with `offsite site credentials SITE --out FILE`';

/** Why a site credentials file was refused, the most useful reason first. */
export function siteCredentialsRefusal(credentials: SiteCredentialsRow | undefined, now: number): AuthError {
  if (!credentials) {
    return new AuthError('SITE_CREDENTIALS_UNKNOWN', 'these site credentials are not known to this server', {
      hint: NEW_FILE_HINT,
    });
  }
  if (credentials.usedAt !== null) {
    return new AuthError('SITE_CREDENTIALS_USED', 'these site credentials registered a site agent already', {
      hint: `a site credentials file is good for one registration; ${NEW_FILE_HINT}`,
    });
  }
  if (credentials.supersededAt !== null) {
    return new AuthError(
      'SITE_CREDENTIALS_SUPERSEDED',
      'a newer site credentials file was issued for this site',
      {
        hint: `only the newest file is valid: use it, or ${NEW_FILE_HINT}`,
      },
    );
  }
  const expired = new Date(credentials.expiresAt).toISOString();
  return new AuthError('SITE_CREDENTIALS_EXPIRED', `these site credentials expired at ${expired}`, {
    hint: `${NEW_FILE_HINT} (now is ${new Date(now).toISOString()})`,
  });
}

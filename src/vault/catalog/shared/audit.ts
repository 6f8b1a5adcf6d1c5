import { createHash } from 'node:crypto';
import { IntegrityError, NotFoundError } from '../../../errors/index.ts';
import {
  AUDIT_OUTCOMES,
  type AuditEntry,
  type AuditHead,
  type AuditListOptions,
  type AuditPruned,
  type NewAuditEntry,
  type ProbeRow,
} from '../audit-types.ts';
import type { JsonObject, JsonValue } from '../rows.ts';
import * as check from '../validate.ts';
import { num, optNum, optStr, type Row, str } from './columns.ts';
import { all, get, type Operation, run } from './dr-steps.ts';

// The audit log and region probes (migration 7), written once for both backends in the
// generator style of ./dr.ts. An entry's hash is SHA-256 over a canonical text of its
// fields and its predecessor's hash; the JSON fields are stored as exactly the canonical
// text that was hashed, so verifying needs no re-serialisation that could differ.

const DEFAULT_LIST = 1000;
const MAX_LIST = 10_000;
const MAX_ACTION = 100;
const MAX_TEXT = 1000;
const HASH_LABEL = 'offsite-audit-v1\n';

const ENTRY_COLUMNS =
  'seq, at, actor, address, action, route, target, vault, before_state, after_state, outcome, error_code, prev_hash, hash';
const HEAD_COLUMNS = 'seq, hash, anchor_seq, anchor_hash, pruned_at';

/** JSON with object keys sorted at every depth: one text per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** The fields a hash covers, as stored: JSON fields are their canonical text. */
export interface StoredEntry {
  seq: number;
  at: number;
  actor: string;
  address: string | null;
  action: string;
  route: string;
  target: string | null;
  vault: string | null;
  before: string | null;
  after: string | null;
  outcome: string;
  errorCode: string | null;
  prevHash: string;
}

export function entryHash(e: StoredEntry): string {
  const fields = [
    e.seq,
    e.at,
    e.actor,
    e.address,
    e.action,
    e.route,
    e.target,
    e.vault,
    e.before,
    e.after,
    e.outcome,
    e.errorCode,
    e.prevHash,
  ];
  return createHash('sha256').update(HASH_LABEL).update(JSON.stringify(fields)).digest('hex');
}

function parsed(row: Row, column: string): JsonValue | null {
  const text = optStr(row, column);
  return text === null ? null : (JSON.parse(text) as JsonValue);
}

function storedOf(row: Row): StoredEntry & { hash: string } {
  return {
    seq: num(row, 'seq'),
    at: num(row, 'at'),
    actor: str(row, 'actor'),
    address: optStr(row, 'address'),
    action: str(row, 'action'),
    route: str(row, 'route'),
    target: optStr(row, 'target'),
    vault: optStr(row, 'vault'),
    before: optStr(row, 'before_state'),
    after: optStr(row, 'after_state'),
    outcome: str(row, 'outcome'),
    errorCode: optStr(row, 'error_code'),
    prevHash: str(row, 'prev_hash'),
    hash: str(row, 'hash'),
  };
}

function toEntry(row: Row): AuditEntry {
  const s = storedOf(row);
  let actor: JsonObject;
  let before: JsonValue | null;
  let after: JsonValue | null;
  try {
    actor = JSON.parse(s.actor) as JsonObject;
    before = parsed(row, 'before_state');
    after = parsed(row, 'after_state');
  } catch {
    throw new IntegrityError('CATALOG_CORRUPT', `audit entry ${s.seq} holds text that is not JSON`, {
      hint: 'run `offsite audit verify`: the entry was changed behind the service',
    });
  }
  return {
    seq: s.seq,
    at: s.at,
    actor,
    address: s.address,
    action: s.action,
    route: s.route,
    target: s.target,
    vault: s.vault,
    before,
    after,
    outcome: s.outcome as AuditEntry['outcome'],
    errorCode: s.errorCode,
    prevHash: s.prevHash,
    hash: s.hash,
  };
}

function toHead(row: Row): AuditHead {
  return {
    seq: num(row, 'seq'),
    hash: str(row, 'hash'),
    anchorSeq: num(row, 'anchor_seq'),
    anchorHash: str(row, 'anchor_hash'),
    prunedAt: optNum(row, 'pruned_at'),
  };
}

function optionalText(field: string, value: unknown): string | null {
  return value === null ? null : check.text(field, value, MAX_TEXT);
}

function optionalJson(value: JsonValue | null): string | null {
  return value === null || value === undefined ? null : canonicalJson(value);
}

function checkedEntry(input: NewAuditEntry) {
  return {
    at: check.whole('at', input.at),
    actor: canonicalJson(JSON.parse(check.jsonObject('actor', input.actor))),
    address: optionalText('address', input.address),
    action: check.text('action', input.action, MAX_ACTION),
    route: check.text('route', input.route, MAX_TEXT),
    target: optionalText('target', input.target),
    vault: optionalText('vault', input.vault),
    before: optionalJson(input.before),
    after: optionalJson(input.after),
    outcome: check.oneOf('outcome', input.outcome, AUDIT_OUTCOMES),
    errorCode: optionalText('errorCode', input.errorCode),
  };
}

/**
 * Appends one entry after the last. Taking the next seq updates the head row first, so
 * a concurrent append (another instance) waits for it or is retried, and reads the new
 * head: the chain never forks.
 */
export function* appendAudit(input: NewAuditEntry): Operation<AuditEntry> {
  const fields = checkedEntry(input);
  const head = yield* get('UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash');
  if (!head) throw new IntegrityError('CATALOG_CORRUPT', 'the audit log has no head row');
  const stored: StoredEntry = { ...fields, seq: num(head, 'seq'), prevHash: str(head, 'hash') };
  const hash = entryHash(stored);
  yield* run(
    `INSERT INTO audit_log (${ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    stored.seq,
    stored.at,
    stored.actor,
    stored.address,
    stored.action,
    stored.route,
    stored.target,
    stored.vault,
    stored.before,
    stored.after,
    stored.outcome,
    stored.errorCode,
    stored.prevHash,
    hash,
  );
  yield* run('UPDATE audit_head SET hash = ? WHERE id = 1', hash);
  return { ...input, ...fields, ...parsedBack(fields), seq: stored.seq, prevHash: stored.prevHash, hash };
}

function parsedBack(fields: ReturnType<typeof checkedEntry>) {
  return {
    actor: JSON.parse(fields.actor) as JsonObject,
    before: fields.before === null ? null : (JSON.parse(fields.before) as JsonValue),
    after: fields.after === null ? null : (JSON.parse(fields.after) as JsonValue),
  };
}

function listFilter(options: AuditListOptions | undefined): { where: string; params: (string | number)[] } {
  const where = ['seq > ?'];
  const params: (string | number)[] = [check.whole('afterSeq', options?.afterSeq ?? 0)];
  if (options?.since !== undefined) {
    where.push('at >= ?');
    params.push(check.whole('since', options.since));
  }
  if (options?.vault !== undefined) {
    where.push('vault = ?');
    params.push(check.text('vault', options.vault, MAX_TEXT));
  }
  return { where: where.join(' AND '), params };
}

/** Oldest first, by seq. */
export function* listAudit(options?: AuditListOptions): Operation<AuditEntry[]> {
  const limit = Math.min(check.limit(options?.limit ?? DEFAULT_LIST), MAX_LIST);
  const { where, params } = listFilter(options);
  const found = yield* all(
    `SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE ${where} ORDER BY seq LIMIT ?`,
    ...params,
    limit,
  );
  return found.map(toEntry);
}

export function* auditHead(): Operation<AuditHead> {
  const row = yield* get(`SELECT ${HEAD_COLUMNS} FROM audit_head WHERE id = 1`);
  if (!row) throw new IntegrityError('CATALOG_CORRUPT', 'the audit log has no head row');
  return toHead(row);
}

/**
 * Deletes the oldest entries, up to the first one at or after `before` (entries are
 * pruned as a prefix of the chain, whatever the clocks of several instances did). The
 * first kept entry's seq and prev hash become the anchor, so the rest still verifies.
 */
export function* pruneAudit(before: number, at: number): Operation<AuditPruned> {
  check.whole('before', before);
  check.whole('at', at);
  const head = yield* auditHead();
  const kept = yield* get('SELECT MIN(seq) AS seq FROM audit_log WHERE at >= ?', before);
  const firstKept = kept && kept.seq !== null ? num(kept, 'seq') : head.seq + 1;
  if (firstKept <= head.anchorSeq) return { removed: 0, head };
  const anchorHash =
    firstKept > head.seq
      ? head.hash
      : str((yield* get('SELECT prev_hash FROM audit_log WHERE seq = ?', firstKept))!, 'prev_hash');
  const removed = yield* run('DELETE FROM audit_log WHERE seq < ?', firstKept);
  yield* run(
    'UPDATE audit_head SET anchor_seq = ?, anchor_hash = ?, pruned_at = ? WHERE id = 1',
    firstKept,
    anchorHash,
    at,
  );
  return { removed, head: yield* auditHead() };
}

// ---- region probes

function toProbe(row: Row): ProbeRow {
  return {
    serverId: str(row, 'server_id'),
    probedAt: num(row, 'probed_at'),
    results: check.parseObject(str(row, 'results')),
  };
}

/** Replaces the server's last probe. */
export function* saveProbe(input: ProbeRow): Operation<ProbeRow> {
  const probedAt = check.whole('probedAt', input.probedAt);
  const results = check.jsonObject('results', input.results);
  const server = yield* get('SELECT id FROM servers WHERE id = ?', input.serverId);
  if (!server) throw new NotFoundError('SERVER_NOT_FOUND', `no server with id ${input.serverId}`);
  yield* run('DELETE FROM region_probes WHERE server_id = ?', input.serverId);
  yield* run(
    'INSERT INTO region_probes (server_id, probed_at, results) VALUES (?, ?, ?)',
    input.serverId,
    probedAt,
    results,
  );
  return { serverId: input.serverId, probedAt, results: check.parseObject(results) };
}

/** The last probe of each server of the vault that has one. */
export function* listProbes(vaultId: string): Operation<ProbeRow[]> {
  const found = yield* all(
    `SELECT p.server_id, p.probed_at, p.results FROM region_probes p
     JOIN servers s ON s.id = p.server_id WHERE s.vault_id = ? ORDER BY p.server_id`,
    vaultId,
  );
  return found.map(toProbe);
}

import { isOffsiteError } from '../../errors/index.ts';
import type { AuditEntry, Catalog } from '../catalog/index.ts';
import { canonicalJson, entryHash } from '../catalog/shared/audit.ts';

// Verifying the audit log's chain: from the anchor (what pruning left as the start), each
// entry must have the next seq, name its predecessor's hash and hash to what it says; the
// last must be the head, so entries cut off the end are noticed too.

const PAGE = 1000;

export interface AuditBreak {
  /** The first entry that does not verify (or the seq expected where one is missing). */
  seq: number;
  reason: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  anchorSeq: number;
  headSeq: number;
  broken: AuditBreak | null;
}

function json(value: unknown): string | null {
  return value === null ? null : canonicalJson(value);
}

/** The hash an entry should have, from its fields as read. */
export function expectedHash(e: AuditEntry): string {
  return entryHash({
    seq: e.seq,
    at: e.at,
    actor: canonicalJson(e.actor),
    address: e.address,
    action: e.action,
    route: e.route,
    target: e.target,
    vault: e.vault,
    before: json(e.before),
    after: json(e.after),
    outcome: e.outcome,
    errorCode: e.errorCode,
    prevHash: e.prevHash,
  });
}

function check(e: AuditEntry, seq: number, prev: string): string | null {
  if (e.seq !== seq) return `entry ${seq} is missing (the next one is ${e.seq})`;
  if (e.prevHash !== prev) return `entry ${e.seq} does not follow the entry before it (prev hash differs)`;
  if (expectedHash(e) !== e.hash) return `entry ${e.seq} was changed: its content does not match its hash`;
  return null;
}

async function page(catalog: Catalog, afterSeq: number): Promise<AuditEntry[] | AuditBreak> {
  try {
    return await catalog.listAudit({ afterSeq, limit: PAGE });
  } catch (err) {
    // An entry whose JSON was edited into something unreadable is broken, not an outage.
    if (isOffsiteError(err) && err.code === 'CATALOG_CORRUPT')
      return { seq: afterSeq + 1, reason: err.message };
    throw err;
  }
}

export async function verifyAuditLog(catalog: Catalog): Promise<AuditVerification> {
  const head = await catalog.auditHead();
  let seq = head.anchorSeq;
  let prev = head.anchorHash;
  let checked = 0;
  const result = (broken: AuditBreak | null) => ({
    ok: broken === null,
    checked,
    anchorSeq: head.anchorSeq,
    headSeq: head.seq,
    broken,
  });
  for (;;) {
    const entries = await page(catalog, seq - 1);
    if (!Array.isArray(entries)) return result(entries);
    for (const e of entries) {
      const reason = check(e, seq, prev);
      if (reason) return result({ seq: Math.min(seq, e.seq), reason });
      checked += 1;
      seq += 1;
      prev = e.hash;
    }
    if (entries.length < PAGE) break;
  }
  if (seq - 1 !== head.seq || prev !== head.hash) {
    return result({ seq, reason: `the log ends at entry ${seq - 1} but its head says ${head.seq}` });
  }
  return result(null);
}

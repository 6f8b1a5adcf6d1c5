import * as audit from '../shared/audit.ts';
import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';
import { numbered } from './dr.ts';

// The audit log and region probes (../shared/audit.ts) on PostgreSQL: each operation in
// a serializable transaction of its own. Two instances appending at once both update the
// head row; one waits or is refused and run again from the start, so it reads the new
// head and the chain stays one line.

function execute(db: Db, step: Step): Promise<unknown> {
  const sql = numbered(step.sql);
  if (step.op === 'get') return db.get(sql, ...step.params);
  if (step.op === 'all') return db.all(sql, ...step.params);
  return db.run(sql, ...step.params);
}

function async<A extends unknown[], R>(make: (...args: A) => Operation<R>) {
  return (db: Db, ...args: A): Promise<R> =>
    db.atomic(async (tx) => {
      const operation = make(...args);
      let answer: unknown;
      for (;;) {
        const next = operation.next(answer);
        if (next.done) return next.value;
        answer = await execute(tx, next.value);
      }
    });
}

export const appendAudit = async(audit.appendAudit);
export const listAudit = async(audit.listAudit);
export const auditHead = async(audit.auditHead);
export const pruneAudit = async(audit.pruneAudit);
export const saveProbe = async(audit.saveProbe);
export const listProbes = async(audit.listProbes);

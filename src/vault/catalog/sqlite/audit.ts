import * as audit from '../shared/audit.ts';
import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';

// The audit log and region probes (../shared/audit.ts) on SQLite: each operation runs
// synchronously and atomically (BEGIN IMMEDIATE: one writer, so one chain).

function execute(db: Db, step: Step): unknown {
  if (step.op === 'get') return db.get(step.sql, ...step.params);
  if (step.op === 'all') return db.all(step.sql, ...step.params);
  return db.run(step.sql, ...step.params);
}

function sync<A extends unknown[], R>(make: (...args: A) => Operation<R>) {
  return (db: Db, ...args: A): R =>
    db.atomic(() => {
      const operation = make(...args);
      let answer: unknown;
      for (;;) {
        const next = operation.next(answer);
        if (next.done) return next.value;
        answer = execute(db, next.value);
      }
    });
}

export const appendAudit = sync(audit.appendAudit);
export const listAudit = sync(audit.listAudit);
export const auditHead = sync(audit.auditHead);
export const pruneAudit = sync(audit.pruneAudit);
export const saveProbe = sync(audit.saveProbe);
export const listProbes = sync(audit.listProbes);

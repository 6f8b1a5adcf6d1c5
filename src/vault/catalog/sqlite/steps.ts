import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';

// Operations written once as generators of SQL steps (../shared/dr-steps.ts), run on
// SQLite: synchronously and atomically, each statement answered before the next.

function execute(db: Db, step: Step): unknown {
  if (step.op === 'get') return db.get(step.sql, ...step.params);
  if (step.op === 'all') return db.all(step.sql, ...step.params);
  return db.run(step.sql, ...step.params);
}

/** The operation `make` builds, as a function of the database and its own arguments. */
export function sync<A extends unknown[], R>(make: (...args: A) => Operation<R>): (db: Db, ...args: A) => R {
  return (db: Db, ...args: A) =>
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

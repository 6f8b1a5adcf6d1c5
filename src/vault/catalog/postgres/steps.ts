import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';

// Operations written once as generators of SQL steps (../shared/dr-steps.ts), run on
// PostgreSQL: each in a transaction of its own (a savepoint inside one), its statements
// awaited one by one. A transaction retried after a serialization conflict starts the
// operation afresh, so it reads what the other writer left.

/** `?` placeholders numbered the PostgreSQL way: $1, $2, ... */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function execute(db: Db, step: Step): Promise<unknown> {
  const sql = numbered(step.sql);
  if (step.op === 'get') return db.get(sql, ...step.params);
  if (step.op === 'all') return db.all(sql, ...step.params);
  return db.run(sql, ...step.params);
}

/** The operation `make` builds, as a function of the database and its own arguments. */
export function async<A extends unknown[], R>(
  make: (...args: A) => Operation<R>,
): (db: Db, ...args: A) => Promise<R> {
  return (db: Db, ...args: A) =>
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

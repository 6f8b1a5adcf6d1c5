import { LEASE_COLUMNS as COLUMNS, releaseValues, TAKE_RULE, takeValues, toLease } from '../shared/leases.ts';
import type { LeaseRow } from '../types.ts';
import type { Db } from './db.ts';

// Leases (../lease-types.ts). One upsert decides a take, so two takers can never both
// get the lease: SQLite runs writers one at a time.

export function takeLease(db: Db, name: string, holder: string, now: number, until: number): LeaseRow {
  const values = takeValues(name, holder, now, until);
  return db.atomic(() => {
    db.run(
      `INSERT INTO leases (${COLUMNS}) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (name) DO UPDATE SET ${TAKE_RULE}`,
      ...values,
    );
    return toLease(db.get(`SELECT ${COLUMNS} FROM leases WHERE name = ?`, values[0])!);
  });
}

export function releaseLease(db: Db, name: string, holder: string, at: number): boolean {
  const [checkedName, checkedHolder, checkedAt] = releaseValues(name, holder, at);
  const changed = db.run(
    'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?',
    checkedAt,
    checkedName,
    checkedHolder,
    checkedAt,
  );
  return changed > 0;
}

export function listLeases(db: Db): LeaseRow[] {
  return db.all(`SELECT ${COLUMNS} FROM leases ORDER BY name`).map(toLease);
}

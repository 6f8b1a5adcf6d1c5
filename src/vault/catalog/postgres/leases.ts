import { LEASE_COLUMNS as COLUMNS, releaseValues, TAKE_RULE, takeValues, toLease } from '../shared/leases.ts';
import type { LeaseRow } from '../types.ts';
import type { Db } from './db.ts';

// Leases (../lease-types.ts). One upsert decides a take; two instances taking the same
// lease at once are serialised by PostgreSQL (the loser is re-run by ./db.ts and then
// finds the lease taken), so only one of them ever gets it.

export async function takeLease(
  db: Db,
  name: string,
  holder: string,
  now: number,
  until: number,
): Promise<LeaseRow> {
  const values = takeValues(name, holder, now, until);
  return db.atomic(async (db) => {
    await db.run(
      `INSERT INTO leases (${COLUMNS}) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (name) DO UPDATE SET ${TAKE_RULE}`,
      ...values,
    );
    return toLease((await db.get(`SELECT ${COLUMNS} FROM leases WHERE name = $1`, values[0]))!);
  });
}

export async function releaseLease(db: Db, name: string, holder: string, at: number): Promise<boolean> {
  const [checkedName, checkedHolder, checkedAt] = releaseValues(name, holder, at);
  const changed = await db.run(
    'UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 AND expires_at > $1',
    checkedAt,
    checkedName,
    checkedHolder,
  );
  return changed > 0;
}

export async function listLeases(db: Db): Promise<LeaseRow[]> {
  const rows = await db.all(`SELECT ${COLUMNS} FROM leases ORDER BY name COLLATE "C"`);
  return rows.map(toLease);
}

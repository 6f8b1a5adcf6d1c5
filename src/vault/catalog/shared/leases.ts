import type { LeaseRow } from '../types.ts';
import * as check from '../validate.ts';
import { num, type Row, str } from './columns.ts';

// The leases table as both backends see it: columns, rows as objects and checked input.
// The SQL is each backend's own, but the rule is one: a take succeeds when the lease is
// free, has run out at `now`, or is the taker's already (then it is a renewal, which
// keeps acquired_at and generation as long as the lease had not run out).

export const LEASE_COLUMNS = 'name, holder, acquired_at, expires_at, generation';

/**
 * The SET and WHERE of the upsert both backends run; `excluded` is the row the take
 * tried to insert (its acquired_at is `now`). SET expressions read the old row.
 */
export const TAKE_RULE = `
  acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.acquired_at
    THEN leases.acquired_at ELSE excluded.acquired_at END,
  generation = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.acquired_at
    THEN leases.generation ELSE leases.generation + 1 END,
  holder = excluded.holder,
  expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at`;

export function toLease(row: Row): LeaseRow {
  return {
    name: str(row, 'name'),
    holder: str(row, 'holder'),
    acquiredAt: num(row, 'acquired_at'),
    expiresAt: num(row, 'expires_at'),
    generation: num(row, 'generation'),
  };
}

/** The checked name, holder, now and until of a take (until must be later than now). */
export function takeValues(name: string, holder: string, now: number, until: number) {
  return [
    check.text('name', name),
    check.text('holder', holder),
    check.whole('now', now),
    check.after('until', check.whole('until', until), now),
  ] as const;
}

/** The checked name, holder and time of a release. */
export function releaseValues(name: string, holder: string, at: number) {
  return [check.text('name', name), check.text('holder', holder), check.whole('at', at)] as const;
}

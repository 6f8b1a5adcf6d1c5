import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPolicy,
  formatCalendarDuration,
  groupSnapshots,
  parseDuration,
  type RetentionPolicy,
  validatePolicy,
} from './retention.ts';
import type { Snapshot, SnapshotRef } from './snapshot.ts';

// Each case is a table: one row per snapshot, newest first, with the instant it was
// taken (ISO 8601 with the offset the zone had then, so DST is explicit) and what the
// policy must decide: the reasons it is kept, joined by ", ", or "-" if it is removed.
// An optional third column gives the snapshot's id, host, paths or tags.

type Extra = { id?: string; host?: string; paths?: string[]; tags?: string[] };
type Row = [time: string, expected: string, extra?: Extra];

interface Case {
  name: string;
  policy: RetentionPolicy;
  tz: string;
  /** Default: far in the future, so no snapshot is "in the future". */
  now?: string;
  rows: Row[];
}

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const UTC = 'UTC';

const CASES: Case[] = [
  // ---- calendar boundaries ----
  {
    name: 'daily across Dec 31 → Jan 1, in Berlin',
    policy: { daily: 3 },
    tz: BERLIN,
    rows: [
      ['2021-01-01T10:00+01:00', 'daily snapshot'],
      ['2021-01-01T00:10+01:00', '-'], // still Dec 31 in UTC, but Jan 1 in Berlin
      ['2020-12-31T23:50+01:00', 'daily snapshot'],
      ['2020-12-31T08:00+01:00', '-'],
      ['2020-12-30T12:00+01:00', 'daily snapshot'],
      ['2020-12-29T12:00+01:00', '-'], // the oldest, but the count is used up
    ],
  },
  {
    name: 'daily: the same instants counted in UTC fall on other days',
    policy: { daily: 2 },
    tz: UTC,
    rows: [
      ['2021-01-01T10:00+01:00', 'daily snapshot'],
      ['2021-01-01T00:10+01:00', 'daily snapshot'], // 2020-12-31 23:10 UTC
      ['2020-12-31T23:50+01:00', '-'],
      ['2020-12-31T08:00+01:00', '-'],
    ],
  },
  {
    name: 'monthly and yearly across Dec 31 → Jan 1',
    policy: { monthly: 2, yearly: 2 },
    tz: BERLIN,
    rows: [
      ['2021-01-15T12:00+01:00', 'monthly snapshot, yearly snapshot'],
      ['2021-01-01T00:30+01:00', '-'],
      ['2020-12-31T23:30+01:00', 'monthly snapshot, yearly snapshot'],
      ['2020-12-01T12:00+01:00', '-'],
      ['2020-11-30T12:00+01:00', '-'],
      ['2019-06-01T12:00+02:00', '-'], // another year, but both counts are used up
    ],
  },
  {
    name: 'leap year: Feb 29 is a day of its own and belongs to February',
    policy: { daily: 2, monthly: 2 },
    tz: BERLIN,
    rows: [
      ['2024-03-01T00:30+01:00', 'daily snapshot, monthly snapshot'], // Feb 29 in UTC
      ['2024-02-29T23:30+01:00', 'daily snapshot, monthly snapshot'],
      ['2024-02-29T08:00+01:00', '-'],
      ['2024-02-28T12:00+01:00', '-'],
    ],
  },
  {
    name: 'non-leap year: Feb 28 is followed by Mar 1',
    policy: { daily: 2 },
    tz: BERLIN,
    rows: [
      ['2023-03-01T00:30+01:00', 'daily snapshot'],
      ['2023-02-28T23:30+01:00', 'daily snapshot'],
      ['2023-02-28T01:00+01:00', '-'],
    ],
  },
  {
    name: 'ISO week 53: Thu 2020-12-31 to Sun 2021-01-03 are one week (2020-W53)',
    policy: { weekly: 3 },
    tz: UTC,
    rows: [
      ['2021-01-04T09:00Z', 'weekly snapshot'], // Monday: 2021-W01
      ['2021-01-03T23:00Z', 'weekly snapshot'], // Sunday: 2020-W53
      ['2021-01-01T12:00Z', '-'], //               2020-W53
      ['2020-12-31T12:00Z', '-'], //               2020-W53
      ['2020-12-27T12:00Z', 'weekly snapshot'], // Sunday: 2020-W52
      ['2020-12-21T12:00Z', '-'], //               2020-W52
    ],
  },
  {
    name: 'a week spanning the year boundary: Mon 2018-12-31 is in 2019-W01',
    policy: { weekly: 2, yearly: 2 },
    tz: UTC,
    rows: [
      ['2019-01-06T12:00Z', 'weekly snapshot, yearly snapshot'], // Sunday, 2019-W01
      ['2019-01-01T12:00Z', '-'],
      ['2018-12-31T12:00Z', 'yearly snapshot'], // 2019-W01, year 2018
      ['2018-12-30T12:00Z', 'weekly snapshot'], // Sunday, 2018-W52
      ['2018-12-29T12:00Z', '-'],
    ],
  },
  {
    name: 'weeks start on Monday in local time (Sunday 23:30 UTC is Monday in Berlin)',
    policy: { weekly: 2 },
    tz: BERLIN,
    rows: [
      ['2021-01-04T00:30+01:00', 'weekly snapshot'], // Monday 2021-W01 (Sunday in UTC)
      ['2021-01-03T22:00+01:00', 'weekly snapshot'], // Sunday 2020-W53
      ['2021-01-03T10:00+01:00', '-'],
    ],
  },

  // ---- daylight saving time ----
  {
    name: 'Berlin spring forward (2021-03-28 has 23 hours): 00:30 the day after is a new day',
    policy: { daily: 3 },
    tz: BERLIN,
    rows: [
      ['2021-03-29T00:30+02:00', 'daily snapshot'], // 2021-03-28 22:30 UTC
      ['2021-03-28T23:30+02:00', 'daily snapshot'],
      ['2021-03-28T00:30+01:00', '-'],
      ['2021-03-27T23:30+01:00', 'daily snapshot'],
      ['2021-03-27T00:30+01:00', '-'],
    ],
  },
  {
    name: 'New York spring forward (2024-03-10): 00:30 EDT the day after is a new day',
    policy: { daily: 2 },
    tz: NEW_YORK,
    rows: [
      ['2024-03-11T00:30-04:00', 'daily snapshot'], // would be Mar 10 at a fixed -05:00
      ['2024-03-10T23:30-04:00', 'daily snapshot'],
      ['2024-03-10T01:30-05:00', '-'],
    ],
  },
  {
    name: 'New York fall back (2024-11-03 has 25 hours): both 01:30s are one day',
    policy: { daily: 2 },
    tz: NEW_YORK,
    rows: [
      ['2024-11-04T00:30-05:00', 'daily snapshot'],
      ['2024-11-03T23:30-05:00', 'daily snapshot'], // would be Nov 4 at a fixed -04:00
      ['2024-11-03T01:30-05:00', '-'], // the second 01:30 (EST)
      ['2024-11-03T01:30-04:00', '-'], // the first 01:30 (EDT)
      ['2024-11-02T23:30-04:00', '-'],
    ],
  },
  {
    name: 'Berlin fall back (2021-10-31): both 02:30s are one day',
    policy: { daily: 2 },
    tz: BERLIN,
    rows: [
      ['2021-11-01T00:30+01:00', 'daily snapshot'],
      ['2021-10-31T02:30+01:00', 'daily snapshot'], // the second 02:30 (CET)
      ['2021-10-31T02:30+02:00', '-'], //              the first 02:30 (CEST)
      ['2021-10-31T00:30+02:00', '-'], //              Oct 30 in UTC
      ['2021-10-30T23:30+02:00', '-'],
    ],
  },
  {
    name: 'hourly, New York fall back: the repeated 01:00 hour is one bucket (wall clock, as restic)',
    policy: { hourly: 3 },
    tz: NEW_YORK,
    rows: [
      ['2024-11-03T02:10-05:00', 'hourly snapshot'],
      ['2024-11-03T01:50-05:00', 'hourly snapshot'],
      ['2024-11-03T01:10-05:00', '-'],
      ['2024-11-03T01:50-04:00', '-'],
      ['2024-11-03T01:10-04:00', '-'],
      ['2024-11-03T00:30-04:00', 'hourly snapshot'],
      ['2024-11-02T23:30-04:00', '-'],
    ],
  },
  {
    name: 'hourly, Berlin spring forward: 01:50 and 03:10 are 20 minutes apart but two hours',
    policy: { hourly: 2 },
    tz: BERLIN,
    rows: [
      ['2021-03-28T03:50+02:00', 'hourly snapshot'],
      ['2021-03-28T03:10+02:00', '-'],
      ['2021-03-28T01:50+01:00', 'hourly snapshot'],
      ['2021-03-28T01:10+01:00', '-'],
    ],
  },

  // ---- last, oldest, unlimited ----
  {
    name: 'keep-last with equal times: ties are ordered by id, newest first',
    policy: { last: 2 },
    tz: UTC,
    rows: [
      ['2024-05-01T12:00Z', 'last snapshot', { id: 'cc' }],
      ['2024-05-01T12:00Z', 'last snapshot', { id: 'bb' }],
      ['2024-05-01T12:00Z', '-', { id: 'aa' }],
      ['2024-04-30T12:00Z', '-', { id: 'dd' }],
    ],
  },
  {
    name: 'keep-last larger than the number of snapshots keeps them all',
    policy: { last: 10 },
    tz: UTC,
    rows: [
      ['2024-05-02T12:00Z', 'last snapshot'],
      ['2024-05-01T12:00Z', 'last snapshot'],
    ],
  },
  {
    name: 'a count not used up keeps the oldest snapshot too (restic ≥ 0.16)',
    policy: { daily: 5 },
    tz: UTC,
    rows: [
      ['2024-05-03T12:00Z', 'daily snapshot'],
      ['2024-05-02T12:00Z', 'daily snapshot'],
      ['2024-05-01T18:00Z', 'daily snapshot'],
      ['2024-05-01T06:00Z', 'oldest daily snapshot'],
    ],
  },
  {
    name: 'a count of -1 keeps every bucket',
    policy: { daily: -1 },
    tz: UTC,
    rows: [
      ['2024-05-03T12:00Z', 'daily snapshot'],
      ['2024-05-02T18:00Z', 'daily snapshot'],
      ['2024-05-02T06:00Z', '-'],
      ['2024-05-01T12:00Z', 'daily snapshot'],
      ['2024-05-01T06:00Z', 'oldest daily snapshot'],
    ],
  },

  // ---- within ----
  {
    name: 'within 30d counts from the newest snapshot, not from now; the boundary is out',
    policy: { within: '30d' },
    tz: UTC,
    now: '2024-12-01T00:00Z',
    rows: [
      ['2024-06-30T12:00Z', 'within 30d'],
      ['2024-05-31T12:00:01Z', 'within 30d'],
      ['2024-05-31T12:00:00Z', '-'], // exactly 30 days before the newest
      ['2024-05-01T12:00Z', '-'],
    ],
  },
  {
    name: 'within: years, months, days, then hours',
    policy: { within: '4h3d2m1y' },
    tz: UTC,
    rows: [
      ['2024-06-15T12:00Z', 'within 1y2m3d4h'],
      ['2023-04-12T08:00:01Z', 'within 1y2m3d4h'],
      ['2023-04-12T08:00:00Z', '-'],
    ],
  },
  {
    name: 'within: snapshots after now do not move the reference point, and are kept',
    policy: { within: '2d' },
    tz: UTC,
    now: '2024-06-15T00:00Z',
    rows: [
      ['2024-07-01T12:00Z', 'within 2d'], // in the future (clock skew)
      ['2024-06-14T12:00Z', 'within 2d'], // the newest snapshot: the reference point
      ['2024-06-12T13:00Z', 'within 2d'],
      ['2024-06-12T11:00Z', '-'],
    ],
  },
  {
    name: 'within 1m from Mar 31 reaches back to Mar 2 (Feb 31 rolls over, as in restic)',
    policy: { within: '1m' },
    tz: UTC,
    rows: [
      ['2024-03-31T12:00Z', 'within 1m'],
      ['2024-03-02T12:30Z', 'within 1m'],
      ['2024-03-02T11:30Z', '-'],
    ],
  },
  {
    name: 'within 1d across spring forward is one calendar day (23 hours)',
    policy: { within: '1d' },
    tz: BERLIN,
    rows: [
      ['2021-03-28T12:00+02:00', 'within 1d'],
      ['2021-03-27T12:30+01:00', 'within 1d'],
      ['2021-03-27T11:30+01:00', '-'], // 23.5 hours before: out
    ],
  },
  {
    name: 'within 24h across spring forward is 24 hours',
    policy: { within: '24h' },
    tz: BERLIN,
    rows: [
      ['2021-03-28T12:00+02:00', 'within 24h'],
      ['2021-03-27T11:30+01:00', 'within 24h'],
      ['2021-03-27T10:30+01:00', '-'],
    ],
  },

  // ---- tags, groups, combinations ----
  {
    name: 'keep-tag keeps snapshots having any of the tags, without counting them',
    policy: { daily: 1, tags: ['keep', 'monthly'] },
    tz: UTC,
    rows: [
      ['2024-05-03T12:00Z', 'daily snapshot'],
      ['2024-05-02T12:00Z', 'has tag monthly', { tags: ['monthly'] }],
      ['2024-05-01T12:00Z', 'has tag keep, has tag monthly', { tags: ['keep', 'monthly'] }],
      ['2024-04-30T12:00Z', '-', { tags: ['other'] }],
    ],
  },
  {
    name: 'a tag-only policy keeps nothing else, not even the oldest',
    policy: { tags: ['release'] },
    tz: UTC,
    rows: [
      ['2024-05-03T12:00Z', '-'],
      ['2024-05-02T12:00Z', 'has tag release', { tags: ['release'] }],
      ['2024-05-01T12:00Z', '-'],
    ],
  },
  {
    name: 'each host + paths group gets its own counts; path order does not matter',
    policy: { daily: 1 },
    tz: UTC,
    rows: [
      ['2024-05-02T12:00Z', 'daily snapshot', { host: 'a' }],
      ['2024-05-01T12:00Z', '-', { host: 'a' }],
      ['2024-05-01T12:00Z', 'daily snapshot', { host: 'b' }],
      ['2024-04-30T12:00Z', '-', { host: 'b' }],
      ['2024-04-29T12:00Z', 'daily snapshot', { host: 'a', paths: ['/srv', '/etc'] }],
      ['2024-04-28T12:00Z', '-', { host: 'a', paths: ['/etc', '/srv'] }],
    ],
  },
  {
    name: 'one snapshot kept for several reasons',
    policy: { last: 1, daily: 2, weekly: 2, monthly: 2, yearly: 1 },
    tz: UTC,
    rows: [
      [
        '2024-01-02T12:00Z',
        'last snapshot, daily snapshot, weekly snapshot, monthly snapshot, yearly snapshot',
      ],
      ['2024-01-01T12:00Z', 'daily snapshot'], //                     Monday, 2024-W01
      ['2023-12-31T12:00Z', 'weekly snapshot, monthly snapshot'], // Sunday, 2023-W52
      ['2023-12-30T12:00Z', '-'],
      ['2023-11-15T12:00Z', '-'],
    ],
  },
  {
    name: 'tags, within and buckets together, reasons in that order',
    policy: { within: '1d', daily: 3, tags: ['pinned'] },
    tz: UTC,
    rows: [
      ['2024-05-10T12:00Z', 'has tag pinned, within 1d, daily snapshot', { tags: ['pinned'] }],
      ['2024-05-10T06:00Z', 'within 1d'],
      ['2024-05-09T06:00Z', 'daily snapshot'],
      ['2024-05-01T12:00Z', 'has tag pinned, daily snapshot', { tags: ['pinned'] }],
      ['2024-04-01T12:00Z', '-'],
    ],
  },
];

function refsOf(rows: Row[]): SnapshotRef[] {
  return rows.map(([time, , extra = {}], i) => ({
    id: extra.id ?? `snapshot-${String(i).padStart(2, '0')}`,
    snapshot: {
      version: 1,
      time: new Date(time).toISOString(),
      tree: '0'.repeat(64),
      paths: extra.paths ?? ['/data'],
      hostname: extra.host ?? 'host',
      username: 'root',
      tags: extra.tags ?? [],
      program: 'test',
    } as Snapshot,
  }));
}

describe('applyPolicy', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const refs = refsOf(c.rows);
      // Oldest first, as listSnapshots gives them: the input order must not matter.
      const result = applyPolicy([...refs].reverse(), c.policy, {
        now: new Date(c.now ?? '2100-01-01T00:00Z'),
        timeZone: c.tz,
      });
      const decided = new Map<string, string>();
      for (const d of result.keep) decided.set(d.ref.id, d.reasons.join(', '));
      for (const d of result.remove) {
        assert.deepEqual(d.reasons, []);
        decided.set(d.ref.id, '-');
      }
      assert.equal(decided.size, refs.length, 'every snapshot is decided once');
      const actual = c.rows.map(([time], i) => [time, decided.get(refs[i]!.id)]);
      const expected = c.rows.map(([time, outcome]) => [time, outcome]);
      assert.deepEqual(actual, expected);
    });
  }

  it('lists decisions newest first within each group', () => {
    const refs = refsOf(CASES[0]!.rows);
    const { keep, remove } = applyPolicy(refs, { daily: 3 }, { now: new Date(), timeZone: BERLIN });
    const times = (ds: typeof keep) => ds.map((d) => Date.parse(d.ref.snapshot.time));
    assert.deepEqual(
      times(keep),
      times(keep).toSorted((a, b) => b - a),
    );
    assert.deepEqual(
      times(remove),
      times(remove).toSorted((a, b) => b - a),
    );
  });

  it('counts in the process time zone by default', () => {
    const saved = process.env.TZ;
    process.env.TZ = NEW_YORK;
    try {
      const rows: Row[] = [
        ['2024-03-11T00:30-04:00', 'daily snapshot'],
        ['2024-03-10T23:30-04:00', 'daily snapshot'], // Mar 11 in UTC
        ['2024-03-10T20:30-04:00', '-'], //              Mar 11 in UTC
      ];
      const { keep } = applyPolicy(refsOf(rows), { daily: 2 }, { now: new Date('2100-01-01') });
      assert.deepEqual(
        keep.map((d) => [d.ref.snapshot.time, d.reasons.join(', ')]),
        rows.slice(0, 2).map(([time, outcome]) => [new Date(time).toISOString(), outcome]),
      );
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('returns nothing for no snapshots', () => {
    assert.deepEqual(applyPolicy([], { last: 1 }, { now: new Date() }), { keep: [], remove: [] });
  });

  it('refuses an empty policy so that nothing is removed by accident', () => {
    for (const policy of [{}, { daily: 0, last: 0 }, { within: '0d' }, { tags: [] }] as RetentionPolicy[]) {
      assert.throws(() => applyPolicy(refsOf(CASES[0]!.rows), policy, { now: new Date() }), {
        code: 'EMPTY_POLICY',
      });
      assert.throws(() => validatePolicy(policy), { code: 'EMPTY_POLICY' });
    }
  });

  it('refuses malformed counts, durations, tags and time zones', () => {
    const now = new Date();
    const cases: [RetentionPolicy, string][] = [
      [{ daily: 1.5 }, 'BAD_POLICY'],
      [{ weekly: -2 }, 'BAD_POLICY'],
      [{ last: Number.NaN }, 'BAD_POLICY'],
      [{ tags: [''] }, 'BAD_POLICY'],
      [{ within: '5w' }, 'BAD_DURATION'],
    ];
    for (const [policy, code] of cases) assert.throws(() => applyPolicy([], policy, { now }), { code });
    assert.throws(() => applyPolicy([], { last: 1 }, { now, timeZone: 'Mars/Olympus_Mons' }), {
      code: 'BAD_TIME_ZONE',
    });
  });
});

describe('parseDuration', () => {
  it('reads y, m, d and h in any order', () => {
    assert.deepEqual(parseDuration('2y5m7d3h'), { years: 2, months: 5, days: 7, hours: 3 });
    assert.deepEqual(parseDuration(' 3h2y '), { years: 2, months: 0, days: 0, hours: 3 });
    assert.equal(formatCalendarDuration(parseDuration('3h2y')), '2y3h');
  });

  it('refuses anything else', () => {
    for (const text of ['', '5', '5w', '1d1d', '-1d', '1 d', 'd', '30D', '1d\n2h']) {
      assert.throws(() => parseDuration(text), { code: 'BAD_DURATION' }, JSON.stringify(text));
    }
  });
});

describe('groupSnapshots', () => {
  it('groups by host and sorted paths, newest first within a group', () => {
    const refs = refsOf([
      ['2024-05-01T12:00Z', '', { id: 'b1', host: 'b' }],
      ['2024-05-02T12:00Z', '', { id: 'a1', host: 'a', paths: ['/y', '/x'] }],
      ['2024-05-03T12:00Z', '', { id: 'a2', host: 'a', paths: ['/x', '/y'] }],
      ['2024-05-04T12:00Z', '', { id: 'b2', host: 'b' }],
    ]);
    const groups = groupSnapshots(refs);
    assert.deepEqual(
      groups.map((g) => [g.key, g.snapshots.map((r) => r.id)]),
      [
        [{ hostname: 'a', paths: ['/x', '/y'] }, ['a2', 'a1']],
        [{ hostname: 'b', paths: ['/data'] }, ['b2', 'b1']],
      ],
    );
  });
});

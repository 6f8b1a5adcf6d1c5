import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PointRow } from '../catalog/index.ts';
import { validatePolicy } from '../policy.ts';
import { expiredPoints } from './expire.ts';

function point(id: string, time: string, stats: Record<string, string | string[]> = {}): PointRow {
  return {
    id,
    serverId: 's',
    vaultId: 'v',
    snapshotName: id.padEnd(64, '0'),
    time: Date.parse(time),
    stats: { hostname: 'web1', paths: ['/srv'], ...stats },
    packCount: 0,
    committedAt: Date.parse(time),
    softDeletedAt: null,
    deletedAt: null,
  };
}

const policy = (retention: object, timeZone = 'UTC') =>
  validatePolicy({ schedule: { times: ['02:00'], timeZone }, retention });

const ids = (points: PointRow[]) => points.map((p) => p.id).sort();
const NOW = Date.parse('2026-03-10T00:00:00Z');

describe('retention of a server’s points', () => {
  it('keeps the newest point of each day for the daily count, in the policy’s time zone', () => {
    const points = [
      point('a', '2026-03-05T23:30:00Z'), // March 6 in Berlin, March 5 in UTC
      point('b', '2026-03-05T12:00:00Z'),
      point('c', '2026-03-04T12:00:00Z'),
      point('d', '2026-03-03T12:00:00Z'),
    ];
    // UTC: a and b share March 5, so b goes; in Berlin a is March 6 and b keeps March 5.
    const inUtc = expiredPoints(points, policy({ daily: 2 }), NOW, new Set());
    assert.deepEqual(ids(inUtc), ['b', 'd']);
    const inBerlin = expiredPoints(points, policy({ daily: 2 }, 'Europe/Berlin'), NOW, new Set());
    assert.deepEqual(ids(inBerlin), ['c', 'd']);
  });

  it('counts each backup set (host and paths) on its own', () => {
    const points = [
      point('etc2', '2026-03-05T03:00:00Z', { paths: ['/etc'] }),
      point('srv2', '2026-03-05T02:00:00Z'),
      point('etc1', '2026-03-04T03:00:00Z', { paths: ['/etc'] }),
      point('srv1', '2026-03-04T02:00:00Z'),
    ];
    assert.deepEqual(ids(expiredPoints(points, policy({ daily: 1 }), NOW, new Set())), ['etc1', 'srv1']);
  });

  it('leaves held points out of the count and never expires the newest point', () => {
    const points = [point('new', '2026-03-05T02:00:00Z'), point('old', '2026-03-04T02:00:00Z')];
    assert.deepEqual(ids(expiredPoints(points, policy({ daily: 1 }), NOW, new Set(['old']))), []);
    assert.deepEqual(ids(expiredPoints(points, policy({ daily: 1 }), NOW, new Set(['new']))), []);
    assert.deepEqual(ids(expiredPoints(points, policy({ daily: 1 }), NOW, new Set())), ['old']);
    assert.deepEqual(expiredPoints([], policy({ daily: 1 }), NOW, new Set()), []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Marker } from '../gc-markers.ts';
import type { SessionInfo } from '../sessions.ts';
import { type PrunePolicy, planPrune } from './plan.ts';
import type { PackUsage } from './usage.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-21T10:00:00Z');
const policy: PrunePolicy = { maxUnused: 0.05, graceMs: HOUR, skewMs: 5 * 60_000 };
const id = (n: number) => n.toString(16).padStart(64, '0');

function pack(n: number, usedBytes: number, totalBytes = 1000): [string, PackUsage] {
  return [
    id(n),
    {
      id: id(n),
      pack: { id: Buffer.alloc(32), salt: Buffer.alloc(32), entries: [] },
      size: totalBytes,
      usedBytes,
      usedBlobs: usedBytes > 0 ? 1 : 0,
      totalBytes,
    },
  ];
}

function marker(minutesAfterT0: number, ...packs: number[]): Marker {
  return { id: 'm', time: new Date(T0 + minutesAfterT0 * 60_000), packs: new Set(packs.map(id)) };
}

function session(startedMinutesAfterT0: number): SessionInfo {
  const started = new Date(T0 + startedMinutesAfterT0 * 60_000).toISOString();
  return { version: 1, id: 's', kind: 'backup', hostname: 'h', pid: 1, started, refreshed: started };
}

function plan(opts: {
  usage?: [string, PackUsage][];
  unindexed?: number[];
  markers?: Marker[];
  sessions?: SessionInfo[];
  atMinutes: number;
  policy?: PrunePolicy;
}) {
  return planPrune({
    usage: new Map(opts.usage ?? []),
    unindexed: new Map((opts.unindexed ?? []).map((n) => [id(n), 100])),
    markers: opts.markers ?? [],
    sessions: opts.sessions ?? [],
    checkedAt: new Date(T0 + opts.atMinutes * 60_000),
    policy: opts.policy ?? policy,
  });
}

describe('planPrune', () => {
  it('condemns unused packs, indexed or not, and repacks packs beyond max-unused', () => {
    const p = plan({
      usage: [pack(1, 0), pack(2, 1000), pack(3, 900), pack(4, 960)],
      unindexed: [5],
      atMinutes: 0,
    });
    assert.deepEqual(p.condemn.sort(), [id(1), id(5)]);
    assert.deepEqual(p.repack, [id(3)], '10 % unused is past 5 %, 4 % is not');
    assert.deepEqual(p.remove, []);
  });

  it('deletes a condemned pack only after the grace period', () => {
    const markers = [marker(0, 1)];
    assert.deepEqual(plan({ usage: [pack(1, 0)], markers, atMinutes: 59 }).blocked, [id(1)]);
    assert.deepEqual(plan({ usage: [pack(1, 0)], markers, atMinutes: 60 }).remove, [id(1)]);
  });

  it('never deletes while a backup that started before the marker (plus skew) may rely on it', () => {
    const markers = [marker(0, 1)];
    const early = plan({ usage: [pack(1, 0)], markers, sessions: [session(-30)], atMinutes: 120 });
    assert.deepEqual(early.remove, []);
    assert.deepEqual(early.blocked, [id(1)]);
    const withinSkew = plan({ usage: [pack(1, 0)], markers, sessions: [session(4)], atMinutes: 120 });
    assert.deepEqual(
      withinSkew.remove,
      [],
      'a backup 4 minutes later may not have seen the marker (clock skew)',
    );
    const later = plan({ usage: [pack(1, 0)], markers, sessions: [session(6)], atMinutes: 120 });
    assert.deepEqual(later.remove, [id(1)], 'a backup started well after the marker read it');
  });

  it('with no grace and no skew, still never deletes what this run condemns', () => {
    const now = { maxUnused: 0.05, graceMs: 0, skewMs: 0 };
    const first = plan({ usage: [pack(1, 0)], atMinutes: 0, policy: now });
    assert.deepEqual(first.condemn, [id(1)]);
    assert.deepEqual(first.remove, []);
    const sameInstant = plan({ usage: [pack(1, 0)], markers: [marker(0, 1)], atMinutes: 0, policy: now });
    assert.deepEqual(sameInstant.remove, [], 'the marker must be older than the session check');
  });

  it('revives a condemned pack that is needed again, and forgets packs already gone', () => {
    const p = plan({ usage: [pack(1, 500)], markers: [marker(0, 1, 2)], atMinutes: 120 });
    assert.deepEqual(p.revive, [id(1)]);
    assert.deepEqual(p.remove, [], 'pack 2 is no longer in storage: nothing to delete');
    assert.deepEqual(p.condemn, []);
  });
});

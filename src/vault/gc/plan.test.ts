import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bitmap, type PackRow } from '../catalog/index.ts';
import { DEFAULT_GC_OPTIONS, type GcInput, planGc } from './plan.ts';

const HOUR = 3_600_000;
const NOW = 1_000 * 24 * HOUR;

function pack(seq: number, fields: Partial<PackRow> = {}): PackRow {
  return {
    serverId: 's',
    seq,
    name: String(seq).padStart(64, '0'),
    size: 1,
    createdAt: NOW - HOUR,
    condemnedAt: null,
    deletedAt: null,
    ...fields,
  };
}

function plan(packs: PackRow[], input: Partial<GcInput> = {}) {
  const result = planGc({
    packs,
    retained: bitmap.encode([]),
    everReferenced: new Set(),
    runningJobs: [],
    now: NOW,
    options: DEFAULT_GC_OPTIONS,
    ...input,
  });
  const seqs = (list: PackRow[]) => list.map((p) => p.seq);
  return {
    condemn: seqs(result.condemn),
    uncondemn: seqs(result.uncondemn),
    remove: seqs(result.remove),
    blocked: seqs(result.blocked),
    young: seqs(result.young),
  };
}

describe('garbage collection plan', () => {
  it('keeps referenced packs and revives condemned ones a point needs again', () => {
    const p = plan([pack(0), pack(1, { condemnedAt: NOW - 48 * HOUR })], { retained: bitmap.encode([0, 1]) });
    assert.deepEqual(p, { condemn: [], uncondemn: [1], remove: [], blocked: [], young: [] });
  });

  it('condemns at once a pack that lost its points, but a never-referenced one only when old', () => {
    const old = pack(2, { createdAt: NOW - 7 * 24 * HOUR });
    const p = plan([pack(0), pack(1), old], { everReferenced: new Set([0]) });
    assert.deepEqual(p.condemn, [0, 2]);
    assert.deepEqual(p.young, [1], 'a young pack may belong to a backup that has not committed yet');
  });

  it('deletes a condemned pack only after the grace period and when no older job runs', () => {
    const condemnedAt = NOW - 24 * HOUR;
    const packs = [pack(0, { condemnedAt }), pack(1, { condemnedAt: condemnedAt + 1 })];
    assert.deepEqual(plan(packs).remove, [0]);
    assert.deepEqual(plan(packs, { runningJobs: [condemnedAt - HOUR] }).blocked, [0]);
    assert.deepEqual(
      plan(packs, { runningJobs: [condemnedAt + HOUR] }).remove,
      [0],
      'that job read the marker',
    );
    const stale = NOW - 8 * 24 * HOUR;
    assert.deepEqual(plan(packs, { runningJobs: [stale] }).remove, [0], 'a job running for 8 days is dead');
    assert.deepEqual(
      plan([pack(0, { deletedAt: NOW - HOUR, condemnedAt })]).remove,
      [],
      'deleted ones are done',
    );
  });
});

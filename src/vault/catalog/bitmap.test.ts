import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { count, decode, encode, has, union } from './bitmap.ts';

const RAW = 0x01;
const RUNS = 0x02;

function range(from: number, to: number, step = 1): number[] {
  const out: number[] = [];
  for (let n = from; n < to; n += step) out.push(n);
  return out;
}

describe('bitmap', () => {
  it('round-trips the empty set in one byte', () => {
    const empty = encode([]);
    assert.equal(empty.length, 1);
    assert.deepEqual(decode(empty), []);
    assert.equal(count(empty), 0);
    assert.equal(has(empty, 0), false);
  });

  it('sorts and de-duplicates its input', () => {
    assert.deepEqual(decode(encode([5, 1, 3, 1, 5, 0])), [0, 1, 3, 5]);
  });

  it('stores long ranges as runs, in a few bytes', () => {
    const members = [...range(0, 100_000), ...range(200_000, 200_010)];
    const bitmap = encode(members);
    assert.equal(bitmap[0], RUNS);
    assert.ok(bitmap.length < 16, `${bitmap.length} bytes`);
    assert.deepEqual(decode(bitmap), members);
    assert.equal(count(bitmap), members.length);
  });

  it('stores alternating members as raw bits, one bit each', () => {
    const members = range(0, 10_000, 2);
    const bitmap = encode(members);
    assert.equal(bitmap[0], RAW);
    assert.equal(bitmap.length, 1 + 10_000 / 8);
    assert.deepEqual(decode(bitmap), members);
  });

  it('keeps a huge lone member small', () => {
    const bitmap = encode([2 ** 40]);
    assert.ok(bitmap.length < 12);
    assert.deepEqual(decode(bitmap), [2 ** 40]);
    assert.equal(has(bitmap, 2 ** 40), true);
    assert.equal(has(bitmap, 2 ** 40 - 1), false);
  });

  it('answers membership in both layouts', () => {
    for (const members of [range(0, 1000, 3), [...range(10, 20), ...range(40, 50)]]) {
      const bitmap = encode(members);
      const set = new Set(members);
      for (let n = 0; n < 1100; n++) assert.equal(has(bitmap, n), set.has(n), `member ${n}`);
      assert.equal(has(bitmap, -1), false);
      assert.equal(has(bitmap, 1.5), false);
    }
  });

  it('unites sets across layouts, merging touching and overlapping ranges', () => {
    const a = encode(range(0, 1000, 2));
    const b = encode(range(1, 1000, 2));
    const c = encode([...range(500, 1500), 5000]);
    const all = union([a, b, c]);
    assert.equal(all[0], RUNS);
    assert.deepEqual(decode(all), [...range(0, 1500), 5000]);
    assert.deepEqual(decode(union([])), []);
    assert.deepEqual(decode(union([a])), decode(a));
  });

  it('matches a naive union on random sets', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const sets = range(0, 5).map(() => {
        const density = random();
        return range(0, 300).filter(() => random() < density);
      });
      const expected = [...new Set(sets.flat())].sort((x, y) => x - y);
      assert.deepEqual(decode(union(sets.map((s) => encode(s)))), expected);
    }
  });

  it('refuses members that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => encode([bad]), { code: 'BAD_BITMAP_MEMBER' });
    }
  });

  it('reports damaged input as CORRUPT_BITMAP', () => {
    const damaged = [
      Uint8Array.of(),
      Uint8Array.of(0x07),
      Uint8Array.of(RUNS, 0x80),
      Uint8Array.of(RUNS, 0x01),
      Uint8Array.of(RUNS, 0x00, 0x00, 0x00, 0x00),
      Uint8Array.of(RUNS, ...new Array<number>(10).fill(0xff), 0x01, 0x00),
    ];
    for (const bitmap of damaged) {
      assert.throws(() => decode(bitmap), { code: 'CORRUPT_BITMAP' }, `bytes ${bitmap.join(',')}`);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from './rate.ts';

const KiB = 1024;

/** A clock that only moves when the bucket sleeps: time is exact and tests are instant. */
function virtualTime(start = 0) {
  let now = start;
  const sleeps: number[] = [];
  return {
    clock: { now: () => now },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    get now() {
      return now;
    },
    sleeps,
  };
}

describe('TokenBucket', () => {
  it('lets bytes through at the rate, starting empty', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ rate: () => 100 * KiB, ...time });
    for (let i = 0; i < 10; i++) await bucket.take(50 * KiB);
    assert.ok(Math.abs(time.now - 5000) <= 10, `500 KiB at 100 KiB/s took ${time.now} ms`);
  });

  it('takes objects larger than any burst, waiting in slices', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ rate: () => 1000, ...time, sliceMs: 250 });
    await bucket.take(3000);
    assert.ok(Math.abs(time.now - 3000) <= 2, `took ${time.now} ms`);
    assert.ok(Math.max(...time.sleeps) <= 250);
  });

  it('does not wait when the rate is unlimited, and starts from nothing when a limit begins', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({
      rate: (now) => (now < 60_000 ? Number.POSITIVE_INFINITY : 1000),
      ...time,
    });
    await bucket.take(10 ** 12);
    assert.equal(time.now, 0);
    time.advance(60_000);
    await bucket.take(1000);
    assert.ok(Math.abs(time.now - 61_000) <= 2, `took ${time.now - 60_000} ms`);
  });

  it('keeps idle credit only up to the burst', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ rate: () => 1000, ...time, burstSeconds: 2 });
    time.advance(60_000);
    await bucket.take(2000);
    assert.equal(time.now, 60_000, 'two seconds of credit were saved');
    await bucket.take(1000);
    assert.ok(Math.abs(time.now - 61_000) <= 2, 'and no more');
  });

  it('switches rate when the schedule changes during a transfer', async () => {
    const time = virtualTime();
    // 1000 B/s for the first 2 s, then 4000 B/s.
    const bucket = new TokenBucket({ rate: (now) => (now < 2000 ? 1000 : 4000), ...time, sliceMs: 100 });
    await bucket.take(2000);
    assert.ok(Math.abs(time.now - 2000) <= 2);
    await bucket.take(8000);
    assert.ok(Math.abs(time.now - 4000) <= 2, `8000 B at 4000 B/s ended at ${time.now}`);
    // One object straddling the boundary back down is paid at both rates.
    const down = virtualTime();
    const other = new TokenBucket({ rate: (now) => (now < 1000 ? 4000 : 1000), ...down, sliceMs: 50 });
    await other.take(5000);
    // 4000 B in the first second, the remaining 1000 B at 1000 B/s.
    assert.ok(Math.abs(down.now - 2000) <= 60, `ended at ${down.now}`);
  });

  it('serves concurrent takers one after another, so together they get the rate', async () => {
    const time = virtualTime();
    const bucket = new TokenBucket({ rate: () => 1000, ...time });
    const done: [number, number][] = [];
    await Promise.all([1, 2, 3, 4].map((i) => bucket.take(1000).then(() => done.push([i, time.now]))));
    assert.deepEqual(
      done.map(([i]) => i),
      [1, 2, 3, 4],
    );
    assert.ok(Math.abs(time.now - 4000) <= 4, `4000 B took ${time.now} ms`);
  });

  it('refuses a rate of zero or less, and a negative take', async () => {
    const time = virtualTime();
    await assert.rejects(new TokenBucket({ rate: () => 0, ...time }).take(1), { code: 'BAD_RATE' });
    await assert.rejects(new TokenBucket({ rate: () => 1, ...time }).take(-1), { code: 'BAD_BYTES' });
    assert.throws(() => new TokenBucket({ rate: () => 1, sliceMs: 0 }), { code: 'BAD_RATE_OPTIONS' });
  });

  it('ignores a clock that steps back', async () => {
    let now = 10_000;
    const bucket = new TokenBucket({
      rate: () => 1000,
      clock: { now: () => now },
      sleep: async (ms) => {
        now += ms;
      },
    });
    now = 5000;
    await bucket.take(1000);
    assert.ok(now >= 6000 && now <= 11_002, `ended at ${now}`);
  });
});

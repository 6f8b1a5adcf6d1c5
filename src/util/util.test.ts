import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import { BufferPool, formatBytes, parseBytes, poolClass, Semaphore } from './index.ts';

describe('formatBytes', () => {
  it('formats with binary units and 3 significant digits', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [1, '1 B'],
      [1023, '1023 B'],
      [1024, '1.00 KiB'],
      [1536, '1.50 KiB'],
      [10 * 1024, '10.0 KiB'],
      [100 * 1024, '100 KiB'],
      [64 * 1024 ** 2, '64.0 MiB'],
      [5 * 1024 ** 3, '5.00 GiB'],
      [3 * 1024 ** 4, '3.00 TiB'],
      [2 * 1024 ** 5, '2.00 PiB'],
      [-1536, '-1.50 KiB'],
    ];
    for (const [n, text] of cases) assert.equal(formatBytes(n), text, String(n));
  });

  it('stops at PiB for very large values', () => {
    assert.equal(formatBytes(2 ** 60), '1024 PiB');
  });
});

describe('parseBytes', () => {
  it('reads binary and decimal units, case-insensitively, with optional spaces and fractions', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['512', 512],
      ['512b', 512],
      ['4k', 4096],
      ['4K', 4096],
      ['4KiB', 4096],
      ['4kb', 4000],
      ['64MiB', 64 * 1024 ** 2],
      ['64 mib', 64 * 1024 ** 2],
      ['64m', 64 * 1024 ** 2],
      ['2MB', 2_000_000],
      ['1.5 GB', 1_500_000_000],
      ['1.5GiB', 1.5 * 1024 ** 3],
      ['2g', 2 * 1024 ** 3],
      ['2T', 2 * 1024 ** 4],
      ['1 TB', 1e12],
      ['1tib', 1024 ** 4],
      ['  7 KiB  ', 7 * 1024],
      ['1.5', 2],
    ];
    for (const [text, n] of cases) assert.equal(parseBytes(text), n, text);
  });

  it('refuses what is not a size with BAD_SIZE, naming the text', () => {
    for (const text of [
      '',
      ' ',
      'abc',
      'MiB',
      '-1',
      '-1 KiB',
      '1e3',
      '1.',
      '.5',
      '1..5',
      '1,5 MB',
      '10 XB',
      '5 k b',
      '0x10',
      'Infinity',
      'NaN',
    ]) {
      assert.throws(
        () => parseBytes(text),
        (err) => {
          assert.ok(err instanceof BadInputError, JSON.stringify(text));
          assert.equal(err.code, 'BAD_SIZE');
          assert.ok(err.message.includes(`"${text}"`));
          assert.ok(err.hint);
          return true;
        },
      );
    }
  });

  it('round-trips with formatBytes for exact binary sizes', () => {
    for (const n of [1024, 1536, 64 * 1024 ** 2, 5 * 1024 ** 3]) assert.equal(parseBytes(formatBytes(n)), n);
  });
});

/** Resolves true when `p` has settled by the time the current macrotask queue drains. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('Semaphore', () => {
  it('admits up to its capacity at once, then makes callers wait for a release', async () => {
    const s = new Semaphore(3);
    assert.equal(s.capacity, 3);
    await s.acquire();
    await s.acquire(2);
    assert.equal(s.used, 3);
    const waiting = s.acquire();
    assert.equal(await isSettled(waiting), false);
    s.release();
    assert.equal(await isSettled(waiting), true);
    assert.equal(s.used, 3);
    s.release(3);
    assert.equal(s.used, 0);
  });

  it('admits waiters in order: a small request does not overtake a larger one queued first', async () => {
    const s = new Semaphore(10);
    await s.acquire(8);
    const order: string[] = [];
    const big = s.acquire(5).then(() => order.push('big'));
    const small = s.acquire(1).then(() => order.push('small'));
    assert.equal(await isSettled(small), false, 'small would fit (8 + 1 <= 10) but waits its turn');
    s.release(8);
    await Promise.all([big, small]);
    assert.deepEqual(order, ['big', 'small']);
    assert.equal(s.used, 6);
  });

  it('admits several waiters on one release when they fit, stopping at the first that does not', async () => {
    const s = new Semaphore(4);
    await s.acquire(4);
    const a = s.acquire(1);
    const b = s.acquire(2);
    const c = s.acquire(2);
    s.release(4);
    assert.equal(await isSettled(a), true);
    assert.equal(await isSettled(b), true);
    assert.equal(await isSettled(c), false);
    assert.equal(s.used, 3);
    s.release(1);
    assert.equal(await isSettled(c), true);
    assert.equal(s.used, 4);
  });

  it('admits a request larger than the capacity alone, and only when idle', async () => {
    const s = new Semaphore(4);
    await s.acquire(10);
    assert.equal(s.used, 10);
    const small = s.acquire(1);
    assert.equal(await isSettled(small), false, 'nothing else runs beside an oversized request');
    s.release(10);
    assert.equal(await isSettled(small), true);

    const huge = s.acquire(100);
    assert.equal(await isSettled(huge), false, 'an oversized request waits until the semaphore is idle');
    s.release(1);
    assert.equal(await isSettled(huge), true);
    assert.equal(s.used, 100);
    s.release(100);
    assert.equal(s.used, 0);
  });

  it('run() returns the result and releases afterwards', async () => {
    const s = new Semaphore(2);
    const result = await s.run(async () => {
      assert.equal(s.used, 2);
      return 42;
    }, 2);
    assert.equal(result, 42);
    assert.equal(s.used, 0);
  });

  it('run() releases when the function throws, and lets the next waiter in', async () => {
    const s = new Semaphore(1);
    const boom = new Error('boom');
    let release!: () => void;
    const first = s.run(
      () =>
        new Promise<never>((_, reject) => {
          release = () => reject(boom);
        }),
    );
    const second = s.run(async () => 'second');
    assert.equal(await isSettled(second), false);
    release();
    await assert.rejects(first, (err) => err === boom);
    assert.equal(await second, 'second');
    assert.equal(s.used, 0);
  });

  it('run() bounds concurrency', async () => {
    const s = new Semaphore(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          if (i % 5 === 0) await new Promise((r) => setImmediate(r));
          active--;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.equal(s.used, 0);
  });
});

describe('BufferPool', () => {
  it('sizes classes as powers of two from 4 KiB, never more than twice the length', () => {
    assert.equal(poolClass(0), 4096);
    assert.equal(poolClass(4096), 4096);
    assert.equal(poolClass(4097), 8192);
    assert.equal(poolClass(1 << 20), 1 << 20);
    for (const n of [5000, 70_000, 3_000_000]) assert.ok(poolClass(n) >= n && poolClass(n) < 2 * n);
  });

  it('reuses a given-back buffer for a length of the same class', () => {
    const pool = new BufferPool(1 << 20);
    const first = pool.take(5000);
    assert.equal(first.length, 5000);
    assert.equal(first.byteOffset, 0);
    assert.equal(first.buffer.byteLength, 8192);
    pool.give(first.buffer as ArrayBuffer);
    assert.equal(pool.take(6000).buffer, first.buffer);
    assert.notEqual(pool.take(6000).buffer, first.buffer);
  });

  it('keeps no more idle bytes than its bound, and no foreign sizes', () => {
    const pool = new BufferPool(8192);
    const a = pool.take(4096).buffer as ArrayBuffer;
    const b = pool.take(4096).buffer as ArrayBuffer;
    const c = pool.take(4096).buffer as ArrayBuffer;
    for (const x of [a, b, c]) pool.give(x);
    const again = new Set([pool.take(1).buffer, pool.take(1).buffer, pool.take(1).buffer]);
    assert.ok(again.has(a) && again.has(b) && !again.has(c));
    pool.give(new ArrayBuffer(5000));
    assert.notEqual(pool.take(4097).buffer.byteLength, 5000);
  });
});

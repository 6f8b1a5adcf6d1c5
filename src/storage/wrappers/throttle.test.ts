import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import { FaultStore } from './faults.ts';
import { RetryStore } from './retry.ts';
import { ThrottleStore } from './throttle.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Time that moves only when a bucket sleeps: exact, and the tests take no real time. */
function virtualTime() {
  const t = { now: 0 };
  return {
    t,
    clock: { now: () => t.now },
    sleep: async (ms: number) => {
      t.now += ms;
    },
  };
}

blobStoreConformance('ThrottleStore(MemoryStore), unlimited', async () => ({
  store: new ThrottleStore(new MemoryStore(), { rate: () => Number.POSITIVE_INFINITY }),
  cleanup: async () => {},
}));

blobStoreConformance('ThrottleStore(MemoryStore), 1 MiB/s in virtual time', async () => {
  const { clock, sleep } = virtualTime();
  return {
    store: new ThrottleStore(new MemoryStore(), { rate: () => MiB, clock, sleep }),
    cleanup: async () => {},
  };
});

describe('ThrottleStore', () => {
  it('holds uploads and downloads each to the rate', async () => {
    const { t, clock, sleep } = virtualTime();
    const store = new ThrottleStore(new MemoryStore(), { rate: () => 100 * KiB, clock, sleep });
    const data = Buffer.alloc(100 * KiB, 7);
    for (let i = 0; i < 8; i++) await store.put(`p/${i}`, data);
    assert.ok(Math.abs(t.now - 8000) <= 10, `800 KiB up at 100 KiB/s took ${t.now} ms`);
    const mark = t.now;
    for (let i = 0; i < 8; i++) assert.deepEqual(await store.get(`p/${i}`), data);
    // The download bucket saved half a second of credit while the uploads ran.
    assert.ok(Math.abs(t.now - mark - 7500) <= 10, `800 KiB down took ${t.now - mark} ms`);
    const ranged = t.now;
    await store.get('p/0', { offset: 10, length: 50 * KiB });
    assert.ok(Math.abs(t.now - ranged - 500) <= 10, `a 50 KiB range took ${t.now - ranged} ms`);
  });

  it('gives uploads and downloads separate budgets', async () => {
    const { t, clock, sleep } = virtualTime();
    const store = new ThrottleStore(new MemoryStore(), { rate: () => 100 * KiB, clock, sleep });
    await store.put('x', Buffer.alloc(100 * KiB));
    const before = t.now;
    await Promise.all([store.put('y', Buffer.alloc(100 * KiB)), store.get('x')]);
    assert.ok(t.now - before <= 1010, `up and down at once took ${t.now - before} ms, not twice as long`);
  });

  it('charges nothing for head, list, delete, or a refused name', async () => {
    const { t, clock, sleep } = virtualTime();
    const inner = new MemoryStore();
    await inner.put('sessions/a', Buffer.alloc(MiB));
    const store = new ThrottleStore(inner, { rate: () => KiB, clock, sleep });
    assert.deepEqual(await store.head('sessions/a'), { size: MiB });
    assert.equal((await collect(store.list(''))).length, 1);
    await store.delete('sessions/a');
    await assert.rejects(store.put('../up', Buffer.alloc(MiB)), { code: 'BAD_OBJECT_NAME' });
    await assert.rejects(store.get('x', { offset: -1, length: MiB }), { code: 'BAD_RANGE' });
    assert.equal(t.now, 0);
  });

  it('follows the rate of the moment: a schedule change mid-transfer changes the pace', async () => {
    const { t, clock, sleep } = virtualTime();
    const rate = (now: number) => (now < 4000 ? 100 * KiB : 400 * KiB);
    const store = new ThrottleStore(new MemoryStore(), { rate, clock, sleep });
    const done: number[] = [];
    for (let i = 0; i < 20; i++) {
      await store.put(`o/${i}`, Buffer.alloc(50 * KiB));
      done.push(t.now);
    }
    // 400 KiB in the first 4 s (8 objects), then 12 × 50 KiB at 400 KiB/s = 1.5 s.
    assert.ok(Math.abs(done[7]! - 4000) <= 10, `slow part ended at ${done[7]}`);
    assert.ok(Math.abs(done[19]! - 5500) <= 20, `fast part ended at ${done[19]}`);
  });

  it('pays again for a retried upload when a RetryStore is outside it', async () => {
    const { t, clock, sleep } = virtualTime();
    const faulty = new FaultStore(new MemoryStore(), { rate: 1, kinds: ['fail-transient'], ops: ['put'] });
    let calls = 0;
    const flaky = {
      location: 'flaky:',
      put: (n: string, d: Uint8Array) =>
        ++calls === 1 ? faulty.put(n, d) : faulty.put(n, d).catch(() => {}),
      get: faulty.get.bind(faulty),
      head: faulty.head.bind(faulty),
      list: faulty.list.bind(faulty),
      delete: faulty.delete.bind(faulty),
    };
    const store = new RetryStore(new ThrottleStore(flaky, { rate: () => 100 * KiB, clock, sleep }), {
      sleep: async () => {},
    });
    await store.put('a', Buffer.alloc(100 * KiB));
    assert.equal(calls, 2);
    assert.ok(Math.abs(t.now - 2000) <= 10, `two attempts of 100 KiB took ${t.now} ms`);
  });
});

import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { blobStoreConformance } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import { FaultStore } from './faults.ts';
import { LimitStore } from './limit.ts';
import { RetryStore } from './retry.ts';

// The contract holds through transient faults: RetryStore over a FaultStore that fails,
// fails after doing, or delays one operation in ten passes the whole conformance suite.

/**
 * One exclusion, and why: the suite puts `once` a second time with the same bytes and
 * expects OBJECT_EXISTS. If a fault struck that second put before it reached the store,
 * RetryStore's retry would meet the conflict, find our own bytes stored, and could not
 * tell them from an earlier attempt of ours that landed: it resolves (documented in
 * retry.ts, pinned by retry.test.ts). So puts of `once` get no faults; all else does.
 */
const notAPutOfOnce = (op: string, name: string) => !(op === 'put' && name === 'once');

function suite(label: string, wrap: (faults: FaultStore) => RetryStore | LimitStore): void {
  describe(label, () => {
    const stores: FaultStore[] = [];
    blobStoreConformance('conformance', async () => {
      const faults = new FaultStore(new MemoryStore(), {
        rate: 0.1,
        kinds: ['fail-transient', 'fail-after', 'delay'],
        seed: stores.length + 1,
        delayMs: 1,
        only: notAPutOfOnce,
      });
      stores.push(faults);
      return { store: wrap(faults), cleanup: async () => {} };
    });
    after(() => {
      const sum = (kind: 'fail-transient' | 'fail-after' | 'delay') =>
        stores.reduce((total, store) => total + store.injected[kind], 0);
      // Faults really happened, of every kind, so passing means something.
      for (const kind of ['fail-transient', 'fail-after', 'delay'] as const) {
        assert.ok(sum(kind) > 0, `no ${kind} fault was injected`);
      }
    });
  });
}

const retry = (inner: FaultStore | LimitStore) => new RetryStore(inner, { baseDelayMs: 1, maxDelayMs: 4 });

suite('RetryStore(FaultStore(MemoryStore, rate 0.1, transient kinds))', retry);
suite('RetryStore(LimitStore(FaultStore(MemoryStore, rate 0.1, transient kinds), 3))', (faults) =>
  retry(new LimitStore(faults, { concurrency: 3 })));

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { LimitStore } from './limit.ts';

/** A MemoryStore whose every operation takes a few ms, and which tracks how many run at once. */
class SlowStore implements BlobStore {
  readonly location = 'slow:';
  readonly #inner = new MemoryStore('slow:');
  inFlight = 0;
  maxInFlight = 0;

  async #slowly<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await wait(2);
      return await fn();
    } finally {
      this.inFlight--;
    }
  }

  put(name: string, data: Uint8Array): Promise<void> {
    return this.#slowly(() => this.#inner.put(name, data));
  }
  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.#slowly(() => this.#inner.get(name, range));
  }
  head(name: string): Promise<ObjectInfo | null> {
    return this.#slowly(() => this.#inner.head(name));
  }
  delete(name: string): Promise<void> {
    return this.#slowly(() => this.#inner.delete(name));
  }
  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      for await (const object of this.#inner.list(prefix)) {
        await wait(1);
        yield object;
      }
    } finally {
      this.inFlight--;
    }
  }
}

blobStoreConformance('LimitStore(MemoryStore), concurrency 1', async () => ({
  store: new LimitStore(new MemoryStore(), { concurrency: 1 }),
  cleanup: async () => {},
}));

blobStoreConformance('LimitStore(MemoryStore), concurrency 4', async () => ({
  store: new LimitStore(new MemoryStore(), { concurrency: 4 }),
  cleanup: async () => {},
}));

describe('LimitStore', () => {
  for (const concurrency of [1, 3, 8]) {
    it(`never has more than ${concurrency} in flight, and uses every slot`, async () => {
      const slow = new SlowStore();
      const store = new LimitStore(slow, { concurrency });
      const names = Array.from({ length: 24 }, (_, i) => `o/${i}`);
      await Promise.all(names.map((name) => store.put(name, Buffer.from(name))));
      assert.equal(slow.maxInFlight, concurrency);
      await Promise.all([
        ...names.map((name) => store.get(name)),
        ...names.map((name) => store.head(name)),
        collect(store.list('o/')),
        collect(store.list('')),
        ...names.map((name) => store.get(name, { offset: 0, length: 1 })),
        ...names.map((name) => store.delete(name)),
      ]);
      assert.equal(slow.maxInFlight, concurrency);
      assert.equal(store.inFlight, 0);
    });
  }

  it('frees the slot of an operation that fails', async () => {
    const store = new LimitStore(new MemoryStore(), { concurrency: 1 });
    const results = await Promise.allSettled([
      store.get('missing'),
      store.put('bad//name', Buffer.alloc(0)),
      collect(store.list('/')),
      store.head('fine'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.equal(store.inFlight, 0);
  });

  it('holds one slot for a whole listing, released when it ends or the consumer breaks', async () => {
    const memory = new MemoryStore();
    for (const name of ['a', 'b', 'c']) await memory.put(name, Buffer.from(name));
    const store = new LimitStore(memory, { concurrency: 1 });

    const listing = store.list('')[Symbol.asyncIterator]();
    assert.equal(store.inFlight, 0, 'a listing not yet iterated holds nothing');
    assert.equal((await listing.next()).value?.name, 'a');
    assert.equal(store.inFlight, 1);
    let headDone = false;
    const head = store.head('a').then(() => {
      headDone = true;
    });
    await wait(5);
    assert.equal(headDone, false, 'head waits for the listing');
    assert.equal((await listing.next()).value?.name, 'b');
    assert.equal((await listing.next()).value?.name, 'c');
    assert.equal((await listing.next()).done, true);
    await head;
    assert.equal(store.inFlight, 0);

    for await (const _ of store.list('')) break;
    assert.equal(store.inFlight, 0, 'break releases the slot');
    await assert.rejects(
      (async () => {
        for await (const _ of store.list('')) throw new Error('consumer failed');
      })(),
      /consumer failed/,
    );
    assert.equal(store.inFlight, 0, 'a throwing consumer releases the slot');
  });

  it('refuses a concurrency that is not a whole number ≥ 1', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new LimitStore(new MemoryStore(), { concurrency }), {
        name: 'BadInputError',
        code: 'BAD_CONCURRENCY',
      });
    }
  });

  it('passes its inner location through', () => {
    assert.equal(new LimitStore(new MemoryStore('memory:x'), { concurrency: 2 }).location, 'memory:x');
  });
});

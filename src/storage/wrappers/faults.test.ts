import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { OffsiteError, TransientError } from '../../errors/index.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import { FAULT_KINDS, type FaultKind, type FaultOptions, FaultStore } from './faults.ts';

blobStoreConformance('FaultStore(MemoryStore), rate 0', async () => ({
  store: new FaultStore(new MemoryStore(), { rate: 0, kinds: [...FAULT_KINDS] }),
  cleanup: async () => {},
}));

blobStoreConformance('FaultStore(MemoryStore), every operation delayed', async () => ({
  store: new FaultStore(new MemoryStore(), { rate: 1, kinds: ['delay'], delayMs: 0 }),
  cleanup: async () => {},
}));

const noSleep = async () => {};

/** A FaultStore over a MemoryStore holding `obj` (10 bytes) and `empty`. */
async function faulty(options: FaultOptions): Promise<{ memory: MemoryStore; store: FaultStore }> {
  const memory = new MemoryStore();
  await memory.put('obj', Buffer.from('0123456789'));
  await memory.put('empty', Buffer.alloc(0));
  return { memory, store: new FaultStore(memory, { sleep: noSleep, ...options }) };
}

/** What each of a fixed sequence of mixed operations did: ok, an error code, or the bytes read. */
async function trace(store: FaultStore, count: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `o/${i % 7}`;
    const op = [
      () => store.put(name, Buffer.from(name)),
      () => store.get('obj'),
      () => store.head(name),
      () => collect(store.list('o/')),
      () => store.delete(name),
    ][i % 5]!;
    try {
      const result = await op();
      outcomes.push(Buffer.isBuffer(result) ? result.toString('hex') : 'ok');
    } catch (err) {
      outcomes.push(err instanceof OffsiteError ? err.code : String(err));
    }
  }
  return outcomes;
}

const byKind = (partial: Partial<Record<FaultKind, number>>): Record<FaultKind, number> => ({
  'fail-transient': 0,
  'fail-after': 0,
  'fail-permanent': 0,
  delay: 0,
  truncate: 0,
  corrupt: 0,
  ...partial,
});

describe('FaultStore', () => {
  it('is deterministic: the same seed and calls give the same faults, another seed others', async () => {
    const options = { rate: 0.3, kinds: FAULT_KINDS };
    const first = await faulty({ ...options, seed: 42 });
    const again = await faulty({ ...options, seed: 42 });
    const other = await faulty({ ...options, seed: 43 });
    const a = await trace(first.store, 300);
    assert.deepEqual(await trace(again.store, 300), a);
    assert.deepEqual(again.store.injected, first.store.injected);
    assert.notDeepEqual(await trace(other.store, 300), a);
    assert.ok(first.store.injectedTotal > 50, `only ${first.store.injectedTotal} faults`);
  });

  it('fail-transient throws TransientError INJECTED_FAULT before doing the operation', async () => {
    const { memory, store } = await faulty({ rate: 1, kinds: ['fail-transient'] });
    const isInjected = (err: unknown) =>
      err instanceof TransientError && err.code === 'INJECTED_FAULT' && /before/.test(err.message);
    await assert.rejects(store.put('new', Buffer.from('x')), isInjected);
    await assert.rejects(store.get('obj'), isInjected);
    await assert.rejects(store.head('obj'), isInjected);
    await assert.rejects(collect(store.list('')), isInjected);
    await assert.rejects(store.delete('obj'), isInjected);
    assert.equal(await memory.head('new'), null, 'put was not done');
    assert.deepEqual(await memory.head('obj'), { size: 10 }, 'delete was not done');
    assert.deepEqual(store.injected, byKind({ 'fail-transient': 5 }));
  });

  it('fail-after does put and delete, then throws TransientError INJECTED_FAULT', async () => {
    const { memory, store } = await faulty({ rate: 1, kinds: ['fail-after'] });
    await assert.rejects(store.put('new', Buffer.from('x')), {
      name: 'TransientError',
      code: 'INJECTED_FAULT',
    });
    assert.equal((await memory.get('new')).toString(), 'x', 'put was done');
    await assert.rejects(store.delete('obj'), { code: 'INJECTED_FAULT' });
    assert.equal(await memory.head('obj'), null, 'delete was done');
    // The operation's own failure wins, and nothing is injected.
    await assert.rejects(store.put('new', Buffer.from('y')), { code: 'OBJECT_EXISTS' });
    // It does not apply to reads.
    assert.deepEqual(await store.head('new'), { size: 1 });
    assert.equal((await store.get('new')).toString(), 'x');
    assert.equal((await collect(store.list(''))).length, 2);
    assert.deepEqual(store.injected, byKind({ 'fail-after': 2 }));
  });

  it('fail-permanent throws OffsiteError kind internal INJECTED_PERMANENT before doing it', async () => {
    const { memory, store } = await faulty({ rate: 1, kinds: ['fail-permanent'] });
    const isInjected = (err: unknown) =>
      err instanceof OffsiteError &&
      !(err instanceof TransientError) &&
      err.kind === 'internal' &&
      err.code === 'INJECTED_PERMANENT';
    await assert.rejects(store.put('new', Buffer.from('x')), isInjected);
    await assert.rejects(store.get('obj'), isInjected);
    await assert.rejects(store.head('obj'), isInjected);
    await assert.rejects(collect(store.list('')), isInjected);
    await assert.rejects(store.delete('obj'), isInjected);
    assert.equal(await memory.head('new'), null);
    assert.deepEqual(await memory.head('obj'), { size: 10 });
    assert.deepEqual(store.injected, byKind({ 'fail-permanent': 5 }));
  });

  it('delay waits delayMs, then does the operation', async () => {
    const waits: number[] = [];
    const memory = new MemoryStore();
    const store = new FaultStore(memory, {
      rate: 1,
      kinds: ['delay'],
      delayMs: 25,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await store.put('a', Buffer.from('abc'));
    assert.equal((await store.get('a')).toString(), 'abc');
    assert.deepEqual(await store.head('a'), { size: 3 });
    assert.deepEqual(await collect(store.list('')), [{ name: 'a', size: 3 }]);
    await store.delete('a');
    assert.equal(await memory.head('a'), null);
    assert.deepEqual(waits, [25, 25, 25, 25, 25]);
    assert.deepEqual(store.injected, byKind({ delay: 5 }));
  });

  it('truncate returns a strict prefix of the bytes, on get only, and leaves the object whole', async () => {
    const { memory, store } = await faulty({ rate: 1, kinds: ['truncate'] });
    for (let i = 0; i < 20; i++) {
      const got = await store.get('obj');
      assert.ok(got.length < 10, `${got.length} bytes`);
      assert.ok(Buffer.from('0123456789').subarray(0, got.length).equals(got));
      const ranged = await store.get('obj', { offset: 2, length: 5 });
      assert.ok(ranged.length < 5);
      assert.ok(Buffer.from('23456').subarray(0, ranged.length).equals(ranged));
    }
    assert.equal((await store.get('empty')).length, 0, 'nothing to cut from an empty object');
    await store.put('new', Buffer.from('x'));
    assert.deepEqual(await store.head('obj'), { size: 10 });
    assert.equal((await memory.get('obj')).toString(), '0123456789');
    assert.deepEqual(store.injected, byKind({ truncate: 40 }));
  });

  it('corrupt flips exactly one bit of the returned copy, on get only', async () => {
    const memory = new MemoryStore();
    const original = randomBytes(4096);
    await memory.put('big', original);
    const store = new FaultStore(memory, { rate: 1, kinds: ['corrupt'], seed: 7 });
    const flipped = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const got = await store.get('big');
      assert.equal(got.length, original.length);
      let bits = 0;
      for (let j = 0; j < got.length; j++) {
        const diff = got[j]! ^ original[j]!;
        if (diff !== 0) flipped.add(j);
        for (let d = diff; d !== 0; d &= d - 1) bits++;
      }
      assert.equal(bits, 1);
    }
    assert.ok(flipped.size > 10, 'the flipped bit moves around');
    assert.ok((await memory.get('big')).equals(original), 'stored bytes untouched');
    assert.deepEqual(store.injected, byKind({ corrupt: 50 }));
  });

  it('injects only into the operations in `ops` and those `only` accepts', async () => {
    const { store } = await faulty({
      rate: 1,
      kinds: ['fail-transient'],
      ops: ['get', 'list'],
      only: (op, name) => op === 'list' || name.startsWith('data/'),
    });
    assert.equal((await store.get('obj')).length, 10, 'not data/');
    await assert.rejects(store.get('data/x'), { code: 'INJECTED_FAULT' });
    await assert.rejects(collect(store.list('')), { code: 'INJECTED_FAULT' });
    await store.put('data/y', Buffer.from('y'));
    assert.deepEqual(await store.head('data/y'), { size: 1 });
    await store.delete('data/y');
    assert.deepEqual(store.injected, byKind({ 'fail-transient': 2 }));
  });

  it('draws list faults when list() is called, and strikes before the first object', async () => {
    const { store } = await faulty({ rate: 0.5, kinds: ['fail-transient'], seed: 3 });
    const listings = Array.from({ length: 40 }, () => store.list(''));
    const faults = store.injectedTotal;
    assert.equal(faults, 0, 'counted when it strikes');
    let failed = 0;
    for (const listing of listings) {
      const seen: string[] = [];
      try {
        for await (const object of listing) seen.push(object.name);
        assert.equal(seen.length, 2);
      } catch (err) {
        assert.equal((err as OffsiteError).code, 'INJECTED_FAULT');
        assert.equal(seen.length, 0);
        failed++;
      }
    }
    assert.ok(failed > 5 && failed < 35, `${failed} of 40`);
    assert.equal(store.injected['fail-transient'], failed);
  });

  it('injects at about `rate` over many operations', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { store } = await faulty({ rate: 0.1, kinds: ['fail-transient', 'delay'], seed });
      let failures = 0;
      for (let i = 0; i < 2000; i++) {
        try {
          await [() => store.get('obj'), () => store.head('obj'), () => store.delete('gone')][i % 3]!();
        } catch {
          failures++;
        }
      }
      const total = store.injectedTotal;
      // Expect 200 (binomial, σ ≈ 13.4); ±60 is 4.5σ. The draws are seeded, so this never flakes.
      assert.ok(Math.abs(total - 200) <= 60, `seed ${seed}: ${total} faults in 2000 operations`);
      assert.equal(failures, store.injected['fail-transient']);
      assert.ok(store.injected['fail-transient'] > 0 && store.injected.delay > 0);
    }
  });

  it('refuses bad options', () => {
    const memory = new MemoryStore();
    const bad: FaultOptions[] = [
      { rate: -0.1, kinds: ['delay'] },
      { rate: 1.5, kinds: ['delay'] },
      { rate: Number.NaN, kinds: ['delay'] },
      { rate: 0.5, kinds: [] },
      { rate: 0.5, kinds: ['explode' as FaultKind] },
      { rate: 0.5, kinds: ['delay'], ops: ['rename' as 'put'] },
      { rate: 0.5, kinds: ['delay'], seed: 1.5 },
      { rate: 0.5, kinds: ['delay'], delayMs: -1 },
    ];
    for (const options of bad) {
      assert.throws(
        () => new FaultStore(memory, options),
        { code: 'BAD_FAULT_OPTIONS' },
        JSON.stringify(options),
      );
    }
  });

  it('returns a copy of its counters', async () => {
    const { store } = await faulty({ rate: 1, kinds: ['delay'] });
    const before = store.injected;
    await store.head('obj');
    assert.equal(before.delay, 0);
    assert.equal(store.injected.delay, 1);
  });
});

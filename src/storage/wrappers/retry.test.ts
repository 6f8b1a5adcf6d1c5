import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError,
  BadInputError,
  ConflictError,
  IntegrityError,
  NotFoundError,
  OffsiteError,
  QuotaError,
  TransientError,
} from '../../errors/index.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { FaultStore } from './faults.ts';
import { isRetryable, type RetryOptions, RetryStore } from './retry.ts';

type Op = 'put' | 'get' | 'head' | 'list' | 'delete';

/**
 * A MemoryStore that first throws the errors queued for an operation, one per call,
 * without doing it, and counts every call. A queued function is called instead (it
 * may act on the store, then throw). `listFailAfter` makes list throw its queued
 * error after yielding that many objects instead of before the first.
 */
class ScriptedStore implements BlobStore {
  readonly location = 'scripted:';
  readonly inner = new MemoryStore('scripted:');
  readonly calls: Record<Op, number> = { put: 0, get: 0, head: 0, list: 0, delete: 0 };
  readonly failures: Record<Op, unknown[]> = { put: [], get: [], head: [], list: [], delete: [] };
  listFailAfter = 0;

  fail(op: Op, ...errors: unknown[]): this {
    this.failures[op].push(...errors);
    return this;
  }

  #call(op: Op): void {
    this.calls[op]++;
    const err = this.failures[op].shift();
    if (typeof err === 'function') err();
    else if (err !== undefined) throw err;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    this.#call('put');
    await this.inner.put(name, data);
  }
  async get(name: string, range?: ByteRange): Promise<Buffer> {
    this.#call('get');
    return this.inner.get(name, range);
  }
  async head(name: string): Promise<ObjectInfo | null> {
    this.#call('head');
    return this.inner.head(name);
  }
  async delete(name: string): Promise<void> {
    this.#call('delete');
    await this.inner.delete(name);
  }
  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.calls.list++;
    const err = this.failures.list.shift();
    let yielded = 0;
    for await (const object of this.inner.list(prefix)) {
      if (err !== undefined && yielded === this.listFailAfter) throw err;
      yield object;
      yielded++;
    }
    if (err !== undefined) throw err;
  }
}

/** A clock that only moves when the injected sleep is called, and the delays asked for. */
function fakeTime(): { delays: number[]; options: Pick<RetryOptions, 'sleep' | 'clock'> } {
  let now = 0;
  const delays: number[] = [];
  return {
    delays,
    options: {
      clock: { now: () => now },
      sleep: async (ms) => {
        delays.push(ms);
        now += ms;
      },
    },
  };
}

const transient = (n = 1) => new TransientError('BUSY', `backend busy (${n})`);
const errno = (code: string) => Object.assign(new Error(`socket says ${code}`), { code });

blobStoreConformance('RetryStore(MemoryStore)', async () => ({
  store: new RetryStore(new MemoryStore()),
  cleanup: async () => {},
}));

describe('RetryStore', () => {
  it('succeeds through attempts - 1 transient failures of each operation', async () => {
    const inner = new ScriptedStore();
    const store = new RetryStore(inner, { ...fakeTime().options, random: () => 1 });
    const five = [1, 2, 3, 4, 5].map(transient);
    await store.put('a', Buffer.from('abc'));
    inner
      .fail('get', ...five)
      .fail('head', ...five)
      .fail('delete', ...five)
      .fail('list', ...five);
    assert.equal((await store.get('a')).toString(), 'abc');
    assert.deepEqual(await store.head('a'), { size: 3 });
    assert.deepEqual(await collect(store.list('')), [{ name: 'a', size: 3 }]);
    await store.delete('a');
    assert.deepEqual(inner.calls, { put: 1, get: 6, head: 6, list: 6, delete: 6 });
    inner.fail('put', ...five);
    await store.put('b', Buffer.from('b'));
    assert.equal(inner.calls.put, 7);
  });

  it('retries raw network errors, by their errno code or their cause’s', async () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNREFUSED']) {
      const inner = new ScriptedStore();
      const wrapped = new TypeError('fetch failed', { cause: errno(code) });
      inner.fail('head', errno(code), wrapped);
      assert.equal(await new RetryStore(inner, fakeTime().options).head('x'), null, code);
      assert.equal(inner.calls.head, 3, code);
    }
    assert.equal(isRetryable(errno('ENOENT')), false);
    assert.equal(isRetryable(new Error('boom')), false);
    // A backend that mapped the error decided it is permanent; its cause does not count.
    assert.equal(isRetryable(new AuthError('DENIED', 'no', { cause: errno('ECONNRESET') })), false);
  });

  it('gives up after `attempts` with TransientError RETRIES_EXHAUSTED naming count, time and cause', async () => {
    const inner = new ScriptedStore();
    const time = fakeTime();
    const store = new RetryStore(inner, { ...time.options, attempts: 4, random: () => 1 });
    const errors = [1, 2, 3, 4, 5].map(transient);
    inner.fail('get', ...errors);
    await assert.rejects(store.get('data/x'), (err) => {
      assert.ok(err instanceof TransientError);
      assert.equal(err.code, 'RETRIES_EXHAUSTED');
      assert.equal(err.cause, errors[3]);
      assert.match(
        err.message,
        /^get data\/x in scripted: failed after 4 attempts over 700 ms: backend busy \(4\)$/,
      );
      assert.ok(err.hint);
      return true;
    });
    assert.equal(inner.calls.get, 4);
    assert.deepEqual(time.delays, [100, 200, 400]);
  });

  it('reports time in seconds past one second, and a single attempt in the singular', async () => {
    const time = fakeTime();
    const inner = new ScriptedStore().fail('head', ...[1, 2, 3, 4, 5, 6].map(transient));
    await assert.rejects(
      new RetryStore(inner, { ...time.options, random: () => 1 }).head('h'),
      /failed after 6 attempts over 3\.1 s: backend busy \(6\)/,
    );
    const once = new ScriptedStore().fail('head', transient());
    await assert.rejects(
      new RetryStore(once, { attempts: 1 }).head('h'),
      /failed after 1 attempt over \d+ ms/,
    );
    assert.equal(once.calls.head, 1);
  });

  it('does not retry permanent errors: they fail at once, unchanged', async () => {
    const permanent = [
      new NotFoundError('OBJECT_NOT_FOUND', 'missing'),
      new ConflictError('OBJECT_EXISTS', 'exists'),
      new BadInputError('BAD_RANGE', 'bad'),
      new IntegrityError('HASH_MISMATCH', 'corrupt'),
      new AuthError('DENIED', 'denied'),
      new QuotaError('FULL', 'full'),
      new OffsiteError('internal', 'STORAGE_IO_ERROR', 'io'),
      new TypeError('a bug'),
      errno('ENOENT'),
    ];
    for (const err of permanent) {
      const inner = new ScriptedStore();
      const store = new RetryStore(inner, fakeTime().options);
      inner.fail('put', err).fail('get', err).fail('head', err).fail('delete', err).fail('list', err);
      await assert.rejects(store.put('p', Buffer.from('x')), (e) => e === err);
      await assert.rejects(store.get('p'), (e) => e === err);
      await assert.rejects(store.head('p'), (e) => e === err);
      await assert.rejects(store.delete('p'), (e) => e === err);
      await assert.rejects(collect(store.list('')), (e) => e === err);
      assert.deepEqual(inner.calls, { put: 1, get: 1, head: 1, list: 1, delete: 1 }, String(err));
    }
  });

  it('backs off exponentially, capped at maxDelayMs, scaled by random (full jitter)', async () => {
    const failAll = () =>
      new ScriptedStore().fail('head', ...Array.from({ length: 20 }, (_, i) => transient(i)));
    const upper = fakeTime();
    const capped = { attempts: 10, baseDelayMs: 100, maxDelayMs: 5000 };
    await assert.rejects(
      new RetryStore(failAll(), { ...upper.options, ...capped, random: () => 1 }).head('h'),
    );
    assert.deepEqual(upper.delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);

    const draws = [0.5, 0, 0.25, 0.999, 0.1, 0.75, 0.3, 0.9, 0.6];
    const jittered = fakeTime();
    let i = 0;
    const random = () => draws[i++]!;
    await assert.rejects(new RetryStore(failAll(), { ...jittered.options, ...capped, random }).head('h'));
    assert.equal(jittered.delays.length, 9);
    jittered.delays.forEach((delay, n) => {
      const cap = upper.delays[n]!;
      assert.equal(delay, draws[n]! * cap, `retry ${n}`);
      assert.ok(delay >= 0 && delay <= cap);
    });
  });

  it('defaults to 6 attempts, 100 ms base and a 10 s cap', async () => {
    const time = fakeTime();
    const inner = new ScriptedStore().fail('head', ...Array.from({ length: 10 }, (_, i) => transient(i)));
    await assert.rejects(new RetryStore(inner, { ...time.options, random: () => 1 }).head('h'));
    assert.equal(inner.calls.head, 6);
    assert.deepEqual(time.delays, [100, 200, 400, 800, 1600]);
    const long = fakeTime();
    const many = new ScriptedStore().fail('head', ...Array.from({ length: 10 }, (_, i) => transient(i)));
    await new RetryStore(many, { ...long.options, attempts: 10, random: () => 1 }).head('h').catch(() => {});
    assert.equal(Math.max(...long.delays), 10_000);
  });

  it('refuses bad options', () => {
    const inner = new MemoryStore();
    for (const options of [
      { attempts: 0 },
      { attempts: 1.5 },
      { baseDelayMs: -1 },
      { maxDelayMs: Number.NaN },
    ]) {
      assert.throws(
        () => new RetryStore(inner, options),
        { code: 'BAD_RETRY_OPTIONS' },
        JSON.stringify(options),
      );
    }
  });

  describe('put that may have succeeded before failing', () => {
    it('is a success when the retry conflicts with our own bytes (fail-after)', async () => {
      const memory = new MemoryStore();
      const faults = new FaultStore(memory, { rate: 1, kinds: ['fail-after'], ops: ['put'] });
      const store = new RetryStore(faults, fakeTime().options);
      const data = Buffer.from('the pack');
      await store.put('pack', data);
      assert.equal(faults.injected['fail-after'], 1, 'the first attempt stored it, then failed');
      assert.ok((await memory.get('pack')).equals(data));
    });

    it('still throws the conflict when the stored bytes differ from ours', async () => {
      const inner = new ScriptedStore();
      await inner.inner.put('obj', Buffer.from('theirs'));
      inner.fail('put', transient());
      const store = new RetryStore(inner, fakeTime().options);
      await assert.rejects(store.put('obj', Buffer.from('ours!!')), {
        name: 'ConflictError',
        code: 'OBJECT_EXISTS',
      });
      assert.equal(inner.calls.put, 2);
      assert.equal(inner.calls.get, 1, 'read back to compare');
      assert.equal((await inner.inner.get('obj')).toString(), 'theirs');
    });

    it('throws a first-attempt conflict at once, even for identical bytes, reading nothing back', async () => {
      const inner = new ScriptedStore();
      await inner.inner.put('obj', Buffer.from('same'));
      const store = new RetryStore(inner, fakeTime().options);
      await assert.rejects(store.put('obj', Buffer.from('same')), { code: 'OBJECT_EXISTS' });
      assert.equal(inner.calls.put, 1);
      assert.equal(inner.calls.get, 0);
    });

    it('resolves for identical bytes that were already there, once a transient failure intervened', async () => {
      // The documented limit: after a failure it cannot know whose put stored the bytes.
      const inner = new ScriptedStore();
      await inner.inner.put('obj', Buffer.from('same'));
      inner.fail('put', transient());
      await new RetryStore(inner, fakeTime().options).put('obj', Buffer.from('same'));
      assert.equal(inner.calls.put, 2);
    });

    it('retries the read-back when it fails transiently, and puts again if the object vanished', async () => {
      const inner = new ScriptedStore();
      const store = new RetryStore(inner, fakeTime().options);
      await inner.inner.put('obj', Buffer.from('ours'));
      inner.fail('put', transient()).fail('get', transient());
      await store.put('obj', Buffer.from('ours'));
      assert.deepEqual([inner.calls.put, inner.calls.get], [3, 2]);

      const vanishing = new ScriptedStore();
      await vanishing.inner.put('obj', Buffer.from('old'));
      vanishing.fail('put', transient());
      vanishing.fail('get', () => {
        void vanishing.inner.delete('obj'); // someone deletes it between the conflict and the read-back
        throw new NotFoundError('OBJECT_NOT_FOUND', 'gone');
      });
      await new RetryStore(vanishing, fakeTime().options).put('obj', Buffer.from('new'));
      assert.equal(vanishing.calls.put, 3);
      assert.equal((await vanishing.inner.get('obj')).toString(), 'new');
    });
  });

  describe('list', () => {
    it('is retried when it fails before the first object', async () => {
      const inner = new ScriptedStore();
      for (const name of ['a', 'b', 'c']) await inner.inner.put(name, Buffer.from(name));
      inner.fail('list', transient(1), errno('ECONNRESET'));
      const store = new RetryStore(inner, fakeTime().options);
      assert.deepEqual(
        (await collect(store.list(''))).map((o) => o.name),
        ['a', 'b', 'c'],
      );
      assert.equal(inner.calls.list, 3);
    });

    it('is not retried once it has yielded an object: the failure propagates unchanged', async () => {
      const inner = new ScriptedStore();
      for (const name of ['a', 'b', 'c']) await inner.inner.put(name, Buffer.from(name));
      const err = transient();
      inner.fail('list', err);
      inner.listFailAfter = 2;
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const object of new RetryStore(inner, fakeTime().options).list(''))
            seen.push(object.name);
        })(),
        (e) => e === err,
      );
      assert.equal(seen.length, 2);
      assert.equal(inner.calls.list, 1);
    });

    it('gives up with RETRIES_EXHAUSTED when every attempt fails before the first object', async () => {
      const inner = new ScriptedStore().fail('list', ...[1, 2, 3].map(transient));
      await assert.rejects(
        collect(new RetryStore(inner, { ...fakeTime().options, attempts: 3 }).list('data/')),
        {
          code: 'RETRIES_EXHAUSTED',
          message: /^list data\/ in scripted: failed after 3 attempts over \d+ ms: backend busy \(3\)$/,
        },
      );
      assert.equal(inner.calls.list, 3);
    });

    it('lets the consumer stop early', async () => {
      const inner = new ScriptedStore();
      for (const name of ['a', 'b', 'c']) await inner.inner.put(name, Buffer.from(name));
      for await (const _ of new RetryStore(inner).list('')) break;
      assert.equal(inner.calls.list, 1);
    });
  });

  it('passes its inner location through', () => {
    assert.equal(new RetryStore(new MemoryStore('memory:here')).location, 'memory:here');
  });
});

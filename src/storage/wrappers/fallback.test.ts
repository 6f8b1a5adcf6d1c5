import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransientError } from '../../errors/index.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { type FallbackEvent, FallbackStore, PrimaryHealth } from './fallback.ts';

blobStoreConformance('FallbackStore (primary up)', async () => ({
  store: new FallbackStore(new MemoryStore('memory:primary'), new MemoryStore('memory:secondary')),
  cleanup: async () => {},
}));

/** A store that can be taken down (every call fails as unreachable) and counts the calls it gets. */
class Switchable implements BlobStore {
  readonly location = 'memory:switchable';
  readonly inner = new MemoryStore('memory:switchable');
  down = false;
  /** Objects the listing yields before it fails while down (0: fails at once). */
  failListingAfter = 0;
  calls = 0;

  #check(): void {
    this.calls++;
    if (this.down) throw new TransientError('UNREACHABLE', 'connection refused');
  }
  async put(name: string, data: Uint8Array): Promise<void> {
    this.#check();
    await this.inner.put(name, data);
  }
  async get(name: string, range?: ByteRange): Promise<Buffer> {
    this.#check();
    return this.inner.get(name, range);
  }
  async head(name: string): Promise<ObjectInfo | null> {
    this.#check();
    return this.inner.head(name);
  }
  async delete(name: string): Promise<void> {
    this.#check();
    await this.inner.delete(name);
  }
  async *list(prefix: string): AsyncIterable<ListedObject> {
    this.calls++;
    let handed = 0;
    for await (const o of this.inner.list(prefix)) {
      if (this.down && handed >= this.failListingAfter) throw new TransientError('UNREACHABLE', 'reset');
      handed++;
      yield o;
    }
    if (this.down) throw new TransientError('UNREACHABLE', 'reset');
  }
}

function setup(options: { holdMs?: number } = {}) {
  let now = 1_000_000;
  const clock = { now: () => now };
  const primary = new Switchable();
  const secondary = new MemoryStore('memory:secondary');
  const health = new PrimaryHealth({ holdMs: options.holdMs ?? 10_000, clock });
  const events: FallbackEvent[] = [];
  const store = () =>
    new FallbackStore(primary, secondary, {
      health,
      primaryName: 'region "a"',
      secondaryName: 'region "b"',
      onEvent: (e) => events.push(e),
    });
  const advance = (ms: number) => {
    now += ms;
  };
  return { primary, secondary, health, events, store, advance };
}

const bytes = (text: string) => Buffer.from(text);

async function both(s: ReturnType<typeof setup>, name: string, data: Buffer): Promise<void> {
  await s.primary.inner.put(name, data);
  await s.secondary.put(name, data);
}

describe('FallbackStore', () => {
  it('serves get, ranged get, head and list from the secondary while the primary is unreachable', async () => {
    const s = setup();
    await both(s, 'data/ab/pack', bytes('0123456789'));
    await both(s, 'index/1', bytes('idx'));
    s.primary.down = true;
    const store = s.store();
    assert.deepEqual(await store.get('data/ab/pack'), bytes('0123456789'));
    assert.deepEqual(await store.get('data/ab/pack', { offset: 2, length: 3 }), bytes('234'));
    assert.deepEqual(await store.head('index/1'), { size: 3 });
    assert.deepEqual((await collect(store.list(''))).map((o) => o.name).sort(), ['data/ab/pack', 'index/1']);
    assert.equal(s.events.length, 1, 'one event for the outage, not one per read');
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.kind === 'primary-failed' ? e.op : '']),
      [['primary-failed', 'get']],
    );
  });

  it('leaves the primary alone for the hold time once it failed, then tries it again', async () => {
    const s = setup({ holdMs: 10_000 });
    await both(s, 'config', bytes('c'));
    s.primary.down = true;
    await s.store().get('config');
    assert.equal(s.primary.calls, 1);
    await s.store().get('config');
    await s.store().head('config');
    await collect(s.store().list(''));
    assert.equal(s.primary.calls, 1, 'other requests (other wrappers, same health) skip the primary');
    s.advance(10_000);
    s.primary.down = false;
    assert.deepEqual(await s.store().get('config'), bytes('c'));
    assert.equal(s.primary.calls, 2);
    assert.equal(s.health.downSince, null);
    const back = s.events.at(-1)!;
    assert.equal(back.kind, 'primary-back');
    assert.equal(back.kind === 'primary-back' && back.readsFromSecondary, 4);
    assert.equal(back.kind === 'primary-back' && back.downForMs, 10_000);
  });

  it("takes the primary's other answers as they are: not found there is not asked elsewhere", async () => {
    const s = setup();
    await s.secondary.put('only-secondary', bytes('x'));
    const store = s.store();
    await assert.rejects(store.get('only-secondary'), { code: 'OBJECT_NOT_FOUND' });
    assert.equal(await store.head('only-secondary'), null);
    assert.deepEqual(await collect(store.list('')), []);
    assert.deepEqual(s.events, []);
  });

  it('writes to the primary only, and refuses writes with PRIMARY_UNAVAILABLE while it is down', async () => {
    const s = setup();
    const store = s.store();
    await store.put('sessions/a', bytes('a'));
    assert.deepEqual(await s.primary.inner.get('sessions/a'), bytes('a'));
    assert.equal(await s.secondary.head('sessions/a'), null);
    s.primary.down = true;
    await assert.rejects(store.put('data/cd/new', bytes('n')), (err: TransientError) => {
      assert.equal(err.code, 'PRIMARY_UNAVAILABLE');
      assert.equal(err.kind, 'transient');
      assert.match(err.message, /region "a" is unreachable/);
      assert.match(err.hint ?? '', /region "b"/);
      return true;
    });
    await assert.rejects(store.delete('sessions/a'), { code: 'PRIMARY_UNAVAILABLE' });
    assert.deepEqual(await collect(s.secondary.list('')), [], 'nothing was written to the secondary');
    s.primary.down = false;
    await store.put('data/cd/new', bytes('n'));
    assert.equal(s.health.downSince, null, 'a write that lands shows the primary is back');
  });

  it('refuses with SECONDARY_BEHIND an object the secondary has not received yet', async () => {
    const s = setup();
    await s.primary.inner.put('snapshots/new', bytes('s'));
    s.primary.down = true;
    await assert.rejects(s.store().get('snapshots/new'), (err: TransientError) => {
      assert.equal(err.code, 'SECONDARY_BEHIND');
      assert.equal(err.kind, 'transient');
      return true;
    });
    assert.equal(await s.store().head('snapshots/new'), null, 'head answers as the secondary stands');
  });

  it('says both stores failed when the secondary is unreachable too', async () => {
    const secondary = new Switchable();
    secondary.down = true;
    const primary = new Switchable();
    primary.down = true;
    const store = new FallbackStore(primary, secondary, { primaryName: 'P', secondaryName: 'S' });
    await assert.rejects(store.get('x'), (err: TransientError) => {
      assert.equal(err.code, 'STORES_UNAVAILABLE');
      assert.match(err.message, /P is unreachable and S failed too/);
      return true;
    });
    await assert.rejects(collect(store.list('')), { code: 'STORES_UNAVAILABLE' });
  });

  it('does not resume a listing the primary broke off, but lists the secondary next time', async () => {
    const s = setup();
    for (const name of ['a', 'b', 'c']) await both(s, name, bytes(name));
    s.primary.down = true;
    s.primary.failListingAfter = 1;
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const o of s.store().list('')) seen.push(o.name);
      },
      { code: 'UNREACHABLE' },
    );
    assert.equal(seen.length, 1, 'nothing was handed out twice');
    assert.equal((await collect(s.store().list(''))).length, 3);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BadInputError, ConflictError, NotFoundError, type OffsiteError } from '../errors/index.ts';
import { MAX_NAME_LENGTH } from './names.ts';
import type { BlobStore, ListedObject } from './types.ts';

/** Makes a fresh, empty store for one test, and a function that removes what it left. */
export type StoreFactory = () => Promise<{ store: BlobStore; cleanup: () => Promise<void> }>;

/** Lets the case groups read the store of the test that is running. */
interface Context {
  readonly store: BlobStore;
  readonly options: ConformanceOptions;
}

export interface ConformanceOptions {
  /**
   * The longest name the store takes, when less than MAX_NAME_LENGTH: a store that adds
   * a prefix to every name (PrefixStore) gives up that many characters.
   */
  maxNameLength?: number;
  /**
   * For a store that lets its caller delete only names under one prefix (the vault's
   * agent API: `sessions/`): the delete cases use names under it, and one more case
   * checks that a delete anywhere else is refused with this error and changes nothing.
   */
  deletesOnlyUnder?: { prefix: string; refusal: { type: ErrorClass; code: string } };
}

/**
 * The executable form of the BlobStore contract in ./types.ts. Every backend and every
 * wrapper runs it from its own test file: `blobStoreConformance('S3Store', makeStore)`.
 * Each test gets a fresh store from `makeStore`.
 */
export function blobStoreConformance(
  label: string,
  makeStore: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describe(label, () => {
    let current: Awaited<ReturnType<StoreFactory>> | undefined;
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    const ctx: Context = {
      options,
      get store() {
        assert.ok(current, 'no store: the factory failed');
        return current.store;
      },
    };
    describe('put and get', () => putGetCases(ctx));
    describe('ranges', () => rangeCases(ctx));
    describe('list', () => listCases(ctx));
    describe('delete', () => deleteCases(ctx));
    describe('names', () => nameCases(ctx));
    describe('concurrency', () => concurrencyCases(ctx));
  });
}

function putGetCases(ctx: Context): void {
  for (const [what, size] of [
    ['an empty object', 0],
    ['a 1-byte object', 1],
    ['a 20 MiB object', 20 * 1024 * 1024],
  ] as const) {
    it(`round-trips ${what}`, async () => {
      const data = randomBytes(size);
      await ctx.store.put('obj', data);
      const got = await ctx.store.get('obj');
      assert.ok(Buffer.isBuffer(got), 'get returns a Buffer');
      assert.ok(got.equals(data), 'bytes read back differ from bytes written');
      assert.deepEqual(await ctx.store.head('obj'), { size });
    });
  }

  it('round-trips nested names and every allowed character', async () => {
    const names = ['a/b/c/d', 'data/00/ff', 'Az09._-/x.y_z-W'];
    for (const name of names) await ctx.store.put(name, Buffer.from(name));
    for (const name of names) assert.equal((await ctx.store.get(name)).toString(), name);
  });

  it('stores only the bytes of a Uint8Array view, not its whole backing buffer', async () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
    await ctx.store.put('view', backing.subarray(2, 4));
    assert.deepEqual([...(await ctx.store.get('view'))], [3, 4]);
  });

  it('get and head of a missing object: NotFoundError OBJECT_NOT_FOUND and null', async () => {
    await ctx.store.put('present', Buffer.from('x'));
    for (const name of ['missing', 'no/such/dir/obj', 'present/below']) {
      await rejectsWith(ctx.store.get(name), NotFoundError, 'OBJECT_NOT_FOUND');
      await rejectsWith(ctx.store.get(name, { offset: 0, length: 0 }), NotFoundError, 'OBJECT_NOT_FOUND');
      assert.equal(await ctx.store.head(name), null);
    }
  });

  it('never overwrites: a second put conflicts and leaves the original whole', async () => {
    const original = randomBytes(1000);
    await ctx.store.put('once', original);
    await rejectsWith(ctx.store.put('once', randomBytes(5)), ConflictError, 'OBJECT_EXISTS');
    await rejectsWith(ctx.store.put('once', original), ConflictError, 'OBJECT_EXISTS');
    assert.ok((await ctx.store.get('once')).equals(original));
    assert.deepEqual(await ctx.store.head('once'), { size: 1000 });
  });

  it("keeps its own copy: changing the caller's or a returned buffer changes nothing", async () => {
    const data = Buffer.from('immutable');
    await ctx.store.put('copy', data);
    data.fill(0);
    const first = await ctx.store.get('copy');
    assert.equal(first.toString(), 'immutable');
    first.fill(0);
    (await ctx.store.get('copy', { offset: 0, length: 4 })).fill(0);
    assert.equal((await ctx.store.get('copy')).toString(), 'immutable');
  });
}

function rangeCases(ctx: Context): void {
  const data = Buffer.from('0123456789');
  const put = () => ctx.store.put('r', data);

  it('reads ranges at the start, in the middle and ending exactly at the end', async () => {
    await put();
    const cases: [number, number, string][] = [
      [0, 3, '012'],
      [4, 3, '456'],
      [7, 3, '789'],
      [0, 10, '0123456789'],
      [9, 1, '9'],
    ];
    for (const [offset, length, expected] of cases) {
      assert.equal(
        (await ctx.store.get('r', { offset, length })).toString(),
        expected,
        `${offset}+${length}`,
      );
    }
  });

  it('reads zero-length ranges, including at the very end and of an empty object', async () => {
    await put();
    await ctx.store.put('empty', Buffer.alloc(0));
    assert.equal((await ctx.store.get('r', { offset: 5, length: 0 })).length, 0);
    assert.equal((await ctx.store.get('r', { offset: 10, length: 0 })).length, 0);
    assert.equal((await ctx.store.get('empty', { offset: 0, length: 0 })).length, 0);
  });

  it('refuses a range past the end with BadInputError BAD_RANGE', async () => {
    await put();
    await ctx.store.put('empty', Buffer.alloc(0));
    for (const [offset, length] of [
      [0, 11],
      [9, 2],
      [10, 1],
      [11, 0],
      [1000, 5],
    ] as const) {
      await rejectsWith(ctx.store.get('r', { offset, length }), BadInputError, 'BAD_RANGE');
    }
    await rejectsWith(ctx.store.get('empty', { offset: 0, length: 1 }), BadInputError, 'BAD_RANGE');
  });

  it('refuses a malformed range (negative, fractional, not a number) with BAD_RANGE', async () => {
    await put();
    for (const [offset, length] of [
      [-1, 2],
      [0, -1],
      [1.5, 1],
      [0, Number.NaN],
      [0, Number.POSITIVE_INFINITY],
    ]) {
      await rejectsWith(ctx.store.get('r', { offset: offset!, length: length! }), BadInputError, 'BAD_RANGE');
    }
  });
}

const LISTED = {
  config: 1,
  dataX: 2,
  'data/ab/p1': 3,
  'data/ab/p2': 4,
  'data/ac/p3': 5,
  'data/b0/p4': 6,
  'index/i1': 7,
  'keys/k1': 8,
} as const;

function listCases(ctx: Context): void {
  const fill = async () => {
    for (const [name, size] of Object.entries(LISTED)) await ctx.store.put(name, randomBytes(size));
  };
  const expected = (predicate: (name: string) => boolean): ListedObject[] =>
    Object.entries(LISTED)
      .filter(([name]) => predicate(name))
      .map(([name, size]) => ({ name, size }))
      .sort(byName);

  it('lists nothing in an empty store', async () => {
    assert.deepEqual(await collect(ctx.store.list('')), []);
    assert.deepEqual(await collect(ctx.store.list('data/')), []);
  });

  it('lists every object once, with its size, for the empty prefix', async () => {
    await fill();
    assert.deepEqual(
      await collect(ctx.store.list('')),
      expected(() => true),
    );
  });

  for (const prefix of ['data/', 'data', 'data/a', 'data/ab/', 'data/ab/p1', 'd', 'config', 'k']) {
    it(`lists exactly the objects starting with "${prefix}"`, async () => {
      await fill();
      assert.deepEqual(
        await collect(ctx.store.list(prefix)),
        expected((name) => name.startsWith(prefix)),
      );
    });
  }

  it('lists nothing for prefixes that match nothing', async () => {
    await fill();
    for (const prefix of ['nothing', 'data/zz/', 'data/ab/p1/', 'config/', 'keys/k2']) {
      assert.deepEqual(await collect(ctx.store.list(prefix)), [], prefix);
    }
  });

  it('never lists an object before it is whole, nor anything but objects', async () => {
    const size = 1024 * 1024;
    const names = Array.from({ length: 8 }, (_, i) => `big/${i}`);
    let done = false;
    const puts = Promise.allSettled(names.map((name) => ctx.store.put(name, randomBytes(size)))).finally(
      () => {
        done = true;
      },
    );
    try {
      while (!done) {
        for (const { name, size: listed } of await collect(ctx.store.list(''))) {
          assert.ok(names.includes(name), `listed "${name}", which was never put`);
          assert.equal(listed, size, `listed ${name} with ${listed} of ${size} bytes`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await puts; // never leave writes running into the cleanup of the store
    }
    for (const result of await puts) if (result.status === 'rejected') throw result.reason;
    await rejectsWith(ctx.store.put('big/0', Buffer.from('x')), ConflictError, 'OBJECT_EXISTS');
    assert.deepEqual(
      (await collect(ctx.store.list(''))).map((o) => o.name),
      [...names].sort(),
    );
  });
}

function deleteCases(ctx: Context): void {
  const p = ctx.options.deletesOnlyUnder?.prefix ?? '';
  it('removes the object from get, head and list, and leaves its neighbours', async () => {
    await ctx.store.put(`${p}d/one`, Buffer.from('1'));
    await ctx.store.put(`${p}d/two`, Buffer.from('22'));
    await ctx.store.delete(`${p}d/one`);
    await rejectsWith(ctx.store.get(`${p}d/one`), NotFoundError, 'OBJECT_NOT_FOUND');
    assert.equal(await ctx.store.head(`${p}d/one`), null);
    assert.deepEqual(await collect(ctx.store.list('')), [{ name: `${p}d/two`, size: 2 }]);
    assert.equal((await ctx.store.get(`${p}d/two`)).toString(), '22');
  });

  it('is idempotent: deleting a missing or already deleted object resolves', async () => {
    await ctx.store.delete(`${p}never-existed`);
    await ctx.store.delete(`${p}no/such/dir/obj`);
    await ctx.store.put(`${p}gone`, Buffer.from('x'));
    await ctx.store.delete(`${p}gone`);
    await ctx.store.delete(`${p}gone`);
    assert.equal(await ctx.store.head(`${p}gone`), null);
  });

  it('lets a deleted name be put again', async () => {
    await ctx.store.put(`${p}again`, Buffer.from('old'));
    await ctx.store.delete(`${p}again`);
    await ctx.store.put(`${p}again`, Buffer.from('new'));
    assert.equal((await ctx.store.get(`${p}again`)).toString(), 'new');
  });

  const only = ctx.options.deletesOnlyUnder;
  if (only === undefined) return;
  it(`refuses to delete anything outside "${only.prefix}", and keeps it`, async () => {
    const outside = [
      'config',
      'keys/k1',
      'index/i1',
      'snapshots/s1',
      'data/ab/p1',
      `${only.prefix.replace(/\/$/, '')}x`,
    ];
    for (const name of outside) {
      await ctx.store.put(name, Buffer.from(name));
      await rejectsWith(ctx.store.delete(name), only.refusal.type, only.refusal.code, name);
      await rejectsWith(ctx.store.delete(`${name}-missing`), only.refusal.type, only.refusal.code, name);
      assert.equal((await ctx.store.get(name)).toString(), name);
    }
  });
}

/** Names that must never reach a path or a URL. */
export const HOSTILE_NAMES: readonly string[] = [
  '',
  '.',
  '..',
  '../x',
  'a/../b',
  'a/./b',
  './a',
  '/etc/passwd',
  'a//b',
  'a/',
  'a\0b',
  'a b',
  'a\\b',
  'c:x',
  'a\nb',
  'é',
  'x'.repeat(1025),
];

const HOSTILE_PREFIXES: readonly string[] = [
  '../x',
  '..',
  '.',
  '/etc',
  '/',
  'a//b',
  'a\0b',
  'a/../b',
  'a/./',
  '~',
];

function nameCases(ctx: Context): void {
  it('refuses bad names in put, get, head and delete, and writes nothing', async () => {
    for (const name of HOSTILE_NAMES) {
      const label = JSON.stringify(name.slice(0, 40));
      await rejectsWith(ctx.store.put(name, Buffer.from('x')), BadInputError, 'BAD_OBJECT_NAME', label);
      await rejectsWith(ctx.store.get(name), BadInputError, 'BAD_OBJECT_NAME', label);
      await rejectsWith(
        ctx.store.get(name, { offset: 0, length: 0 }),
        BadInputError,
        'BAD_OBJECT_NAME',
        label,
      );
      await rejectsWith(ctx.store.head(name), BadInputError, 'BAD_OBJECT_NAME', label);
      await rejectsWith(ctx.store.delete(name), BadInputError, 'BAD_OBJECT_NAME', label);
    }
    assert.deepEqual(await collect(ctx.store.list('')), []);
  });

  it('refuses bad prefixes in list', async () => {
    for (const prefix of HOSTILE_PREFIXES) {
      await rejectsWith(
        collect(ctx.store.list(prefix)),
        BadInputError,
        'BAD_OBJECT_NAME',
        JSON.stringify(prefix),
      );
    }
  });

  it('accepts a name of the longest length it takes', async () => {
    const length = ctx.options.maxNameLength ?? MAX_NAME_LENGTH;
    const name = longName(length);
    assert.equal(name.length, length);
    await ctx.store.put(name, Buffer.from('long'));
    assert.equal((await ctx.store.get(name)).toString(), 'long');
    assert.deepEqual(await collect(ctx.store.list('a')), [{ name, size: 4 }]);
  });
}

/** Segments of 254 letters (a, b, c, ...) and a last, shorter one: `length` characters. */
function longName(length: number): string {
  const segments: string[] = [];
  let left = length;
  while (left > 255) {
    segments.push(String.fromCharCode(97 + segments.length).repeat(254));
    left -= 255;
  }
  segments.push('z'.repeat(left));
  return segments.join('/');
}

function concurrencyCases(ctx: Context): void {
  it('completes 50 concurrent puts of different names, sharing new directories', async () => {
    const objects = Array.from({ length: 50 }, (_, i) => ({
      name: `c/${i % 5}/o${i}`,
      data: randomBytes(100 + i),
    }));
    const results = await Promise.allSettled(objects.map(({ name, data }) => ctx.store.put(name, data)));
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    for (const { name, data } of objects) assert.ok((await ctx.store.get(name)).equals(data), name);
    assert.equal((await collect(ctx.store.list('c/'))).length, 50);
  });

  it('lets exactly one of many concurrent puts of one name win, whole', async () => {
    for (const name of ['same', 'x/y/same']) {
      const values = Array.from({ length: 10 }, (_, i) => Buffer.alloc(64 * 1024 + i, i + 1));
      const results = await Promise.allSettled(values.map((value) => ctx.store.put(name, value)));
      const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, `${winners.length} puts of "${name}" succeeded`);
      for (const result of results) {
        if (result.status === 'rejected') assertOffsiteError(result.reason, ConflictError, 'OBJECT_EXISTS');
      }
      assert.ok(
        (await ctx.store.get(name)).equals(values[winners[0]!]!),
        'stored bytes are not the winner’s',
      );
    }
  });
}

function byName(a: ListedObject, b: ListedObject): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Drains a listing, sorted by name (list promises no order). */
export async function collect(listing: AsyncIterable<ListedObject>): Promise<ListedObject[]> {
  const all: ListedObject[] = [];
  for await (const object of listing) all.push(object);
  return all.sort(byName);
}

export type ErrorClass = abstract new (...args: never[]) => OffsiteError;

async function rejectsWith(
  promise: Promise<unknown>,
  type: ErrorClass,
  code: string,
  label = '',
): Promise<void> {
  await assert.rejects(promise, (err) => {
    assertOffsiteError(err, type, code, label);
    return true;
  });
}

function assertOffsiteError(err: unknown, type: ErrorClass, code: string, label = ''): void {
  assert.ok(err instanceof type, `${label} expected ${type.name}, got ${String(err)}`);
  assert.equal(err.code, code, `${label} ${err.message}`);
  assert.ok(err.message.length > 0);
}

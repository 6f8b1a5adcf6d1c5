import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MemoryStore } from '../memory/index.ts';
import { MAX_NAME_LENGTH } from '../names.ts';
import { PrefixStore } from './prefix.ts';

blobStoreConformance(
  'PrefixStore',
  async () => ({
    store: new PrefixStore(new MemoryStore('memory:'), 'vault/server/'),
    cleanup: async () => {},
  }),
  { maxNameLength: MAX_NAME_LENGTH - 'vault/server/'.length },
);

describe('PrefixStore', () => {
  it('keeps each prefix to itself', async () => {
    const inner = new MemoryStore('memory:');
    const a = new PrefixStore(inner, 'a/');
    const b = new PrefixStore(inner, 'ab/');
    await a.put('x', Buffer.from('1'));
    await b.put('x', Buffer.from('2'));
    assert.deepEqual(
      (await collect(a.list(''))).map((o) => o.name),
      ['x'],
    );
    assert.deepEqual(await a.get('x'), Buffer.from('1'));
    assert.deepEqual((await collect(inner.list(''))).map((o) => o.name).sort(), ['a/x', 'ab/x']);
  });

  it('refuses names that would climb out, and prefixes without a trailing slash', async () => {
    const store = new PrefixStore(new MemoryStore('memory:'), 'a/');
    await assert.rejects(store.get('../b/x'), { code: 'BAD_OBJECT_NAME' });
    await assert.rejects(store.put('/x', Buffer.alloc(1)), { code: 'BAD_OBJECT_NAME' });
    assert.throws(() => new PrefixStore(new MemoryStore('memory:'), 'a'), { code: 'BAD_OBJECT_NAME' });
  });
});

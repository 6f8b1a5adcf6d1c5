import assert from 'node:assert/strict';
import { it } from 'node:test';
import { blobStoreConformance } from '../conformance.ts';
import { MemoryStore } from './index.ts';

blobStoreConformance('MemoryStore', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));

it('MemoryStore names its location in messages', async () => {
  const store = new MemoryStore('memory:test');
  assert.equal(store.location, 'memory:test');
  await assert.rejects(store.get('missing'), /missing does not exist in memory:test/);
});

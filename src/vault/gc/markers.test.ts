import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanVaultMarkers } from '../../repo/gc-markers.ts';
import { MemoryStore } from '../../storage/index.ts';
import { syncVaultMarker } from './markers.ts';

const id = (n: number) => n.toString(16).padStart(64, '0');
const none = new Set<string>();

async function listed(store: MemoryStore): Promise<string[][]> {
  const { markers, damaged } = await scanVaultMarkers(store);
  assert.deepEqual(damaged, []);
  return markers.map((m) => [...m.packs].sort());
}

describe('vault markers, vault side', () => {
  it('writes one marker with the packs, and leaves it alone while nothing changes', async () => {
    const store = new MemoryStore();
    const want = { packs: new Set([id(2), id(1)]), stored: new Set([id(1), id(2)]), live: none };
    assert.equal(await syncVaultMarker(store, want, 1000), true);
    assert.deepEqual(await listed(store), [[id(1), id(2)]]);
    assert.equal(await syncVaultMarker(store, want, 2000), false);
    assert.equal(await syncVaultMarker(store, { ...want, packs: new Set() }, 3000), true);
    assert.deepEqual(await listed(store), [], 'nothing condemned: no marker');
  });

  it('replaces damaged or foreign objects under gc-vault/', async () => {
    const store = new MemoryStore();
    await store.put(`gc-vault/${id(9)}`, Buffer.from('{"version":1}'));
    const want = { packs: new Set([id(1)]), stored: new Set([id(1)]), live: none };
    assert.equal(await syncVaultMarker(store, want, 1000), true);
    assert.deepEqual(await listed(store), [[id(1)]]);
  });

  it('keeps listing a pack whose object is gone, unless a live row names it again', async () => {
    const store = new MemoryStore();
    await syncVaultMarker(store, { packs: new Set([id(1), id(2), id(3)]), stored: none, live: none }, 1000);
    // As after rebuild-catalog: the catalog no longer knows deleted packs 1 and 2; 3 was
    // uploaded again and is live; nothing the agent's index names may disappear from it.
    await syncVaultMarker(
      store,
      { packs: new Set(), stored: new Set([id(3)]), live: new Set([id(3)]) },
      2000,
    );
    assert.deepEqual(await listed(store), [[id(1), id(2)]]);
  });
});

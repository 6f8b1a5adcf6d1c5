import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MemoryStore } from '../storage/index.ts';
import { fastKdfParams } from './crypto/kdf.ts';
import { newMasterSecret } from './crypto/keys.ts';
import { addKeySlot, scanKeySlots, unlock } from './keyring.ts';

// Regression test for an input found by test/fuzz/key-file.test.ts: a key file whose
// `created` is not a string made sorting the slots throw a TypeError; it is a damaged
// key file instead, and the intact slot beside it still loads.
describe('scanKeySlots with a damaged key file', () => {
  for (const created of [{}, 1, null]) {
    it(`lists a key file with created ${JSON.stringify(created)} as damaged`, async () => {
      const store = new MemoryStore();
      const slot = await addKeySlot(store, newMasterSecret(), 'a passphrase long enough', {
        kdf: fastKdfParams(),
      });
      const bytes = Buffer.from(JSON.stringify({ ...slot.file, created }));
      const name = `keys/${createHash('sha256').update(bytes).digest('hex')}`;
      await store.put(name, bytes);
      const scan = await scanKeySlots(store);
      assert.deepEqual(
        scan.slots.map((s) => s.name),
        [slot.name],
      );
      assert.deepEqual(
        scan.damaged.map((d) => d.object),
        [name],
      );
    });
  }
});

describe('unlock beside a key file with refused settings', () => {
  it('opens with the good slot; a planted slot with a too-short salt locks nobody out', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const good = await addKeySlot(store, master, 'a passphrase long enough', { kdf: fastKdfParams() });
    // Created earlier than the good slot, so it is tried first.
    const planted = {
      ...good.file,
      created: '2000-01-01T00:00:00.000Z',
      kdf: { ...good.file.kdf, salt: Buffer.alloc(4).toString('base64') },
    };
    const bytes = Buffer.from(JSON.stringify(planted));
    await store.put(`keys/${createHash('sha256').update(bytes).digest('hex')}`, bytes);
    const opened = await unlock(store, 'a passphrase long enough');
    assert.deepEqual(opened.master, master);
    assert.equal(opened.slot.name, good.name);
    await assert.rejects(unlock(store, 'another passphrase, also long'), { code: 'CORRUPT_KEY' });
  });
});

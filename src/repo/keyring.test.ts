import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { AuthError, ConflictError, IntegrityError, NotFoundError } from '../errors/index.ts';
import { MemoryStore } from '../storage/index.ts';
import { deriveKek, fastKdfParams } from './crypto/kdf.ts';
import { newMasterSecret, unwrapMaster } from './crypto/keys.ts';
import {
  addKeySlot,
  canonicalSecret,
  generateRecoveryKey,
  type KeyFile,
  listKeySlots,
  removeKeySlot,
  unlock,
} from './keyring.ts';

const PASS_A = 'first passphrase, long enough';
const PASS_B = 'second passphrase, also long';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Stores `bytes` under keys/<sha256>, as a valid-looking slot. */
async function putSlot(store: MemoryStore, bytes: Buffer): Promise<string> {
  const name = `keys/${sha256(bytes)}`;
  await store.put(name, bytes);
  return name;
}

function slotJson(file: KeyFile): Buffer {
  return Buffer.from(`${JSON.stringify(file, null, 2)}\n`);
}

describe('keyring', () => {
  it('addKeySlot writes a slot named by its SHA-256 that unlock opens', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const now = new Date('2024-05-06T07:08:09.000Z');
    const slot = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams(), label: 'ops', now });
    assert.equal(slot.name, `keys/${slot.id}`);
    const bytes = await store.get(slot.name);
    assert.equal(sha256(bytes), slot.id);

    const file = JSON.parse(bytes.toString()) as KeyFile;
    assert.equal(file.version, 1);
    assert.equal(file.label, 'ops');
    assert.equal(file.created, now.toISOString());
    assert.equal(file.kdf.algorithm, 'argon2id');
    assert.equal(Buffer.from(file.wrapped, 'base64').length, 60);
    assert.ok(!bytes.toString().includes(PASS_A), 'the passphrase is not stored');
    assert.ok(
      !bytes.includes(master) && !bytes.toString().includes(master.toString('base64')),
      'nor the master',
    );

    const opened = await unlock(store, PASS_A);
    assert.deepEqual(opened.master, master);
    assert.equal(opened.slot.id, slot.id);
  });

  it('refuses a wrong passphrase with AuthError WRONG_PASSPHRASE', async () => {
    const store = new MemoryStore('memory:vault');
    await addKeySlot(store, newMasterSecret(), PASS_A, { kdf: fastKdfParams() });
    await assert.rejects(unlock(store, PASS_B), (err) => {
      assert.ok(err instanceof AuthError);
      assert.equal(err.code, 'WRONG_PASSPHRASE');
      assert.equal(err.kind, 'auth');
      assert.match(err.message, /memory:vault/);
      assert.ok(!err.message.includes(PASS_B), 'the message does not echo the passphrase');
      return true;
    });
  });

  it('unlocks with NFC-equivalent spellings of the passphrase', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    await addKeySlot(store, master, 'caf\u00e9 caf\u00e9 caf\u00e9 caf\u00e9', { kdf: fastKdfParams() });
    assert.deepEqual((await unlock(store, 'cafe\u0301 cafe\u0301 cafe\u0301 cafe\u0301')).master, master);
  });

  it('with two slots for one master, each passphrase opens (and reports its own slot)', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const a = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams(), now: new Date(1000) });
    const b = await addKeySlot(store, master, PASS_B, { kdf: fastKdfParams(), now: new Date(2000) });
    assert.notEqual(a.id, b.id);
    const viaA = await unlock(store, PASS_A);
    const viaB = await unlock(store, PASS_B);
    assert.deepEqual(viaA.master, master);
    assert.deepEqual(viaB.master, master);
    assert.equal(viaA.slot.id, a.id);
    assert.equal(viaB.slot.id, b.id);
    assert.deepEqual(
      (await listKeySlots(store)).map((s) => s.id),
      [a.id, b.id],
      'listed oldest first',
    );
    await assert.rejects(unlock(store, 'neither of the two passphrases'), { code: 'WRONG_PASSPHRASE' });
  });

  it('removeKeySlot removes another slot by unique prefix; its passphrase no longer opens', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const a = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    const b = await addKeySlot(store, master, PASS_B, { kdf: fastKdfParams() });
    const { slot } = await unlock(store, PASS_A);
    await removeKeySlot(store, b.id.slice(0, 12), slot);
    assert.equal(await store.head(b.name), null);
    assert.ok(await store.head(a.name));
    await assert.rejects(unlock(store, PASS_B), { code: 'WRONG_PASSPHRASE' });
    assert.deepEqual((await unlock(store, PASS_A)).master, master);
  });

  it('removeKeySlot refuses the key in use (KEY_IN_USE) and leaves it', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const a = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    await addKeySlot(store, master, PASS_B, { kdf: fastKdfParams() });
    const { slot } = await unlock(store, PASS_A);
    await assert.rejects(removeKeySlot(store, a.id, slot), (err) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(err.code, 'KEY_IN_USE');
      return true;
    });
    assert.ok(await store.head(a.name));
  });

  it('removeKeySlot refuses an unknown or ambiguous prefix (KEY_NOT_FOUND) and deletes nothing', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const a = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    const b = await addKeySlot(store, master, PASS_B, { kdf: fastKdfParams() });
    const { slot } = await unlock(store, PASS_A);
    const unknown = [...'0123456789abcdef'].find((c) => !a.id.startsWith(c) && !b.id.startsWith(c))!;
    for (const prefix of [unknown, `${b.id}0`, 'not-hex', '']) {
      await assert.rejects(removeKeySlot(store, prefix, slot), (err) => {
        assert.ok(err instanceof NotFoundError, `prefix ${JSON.stringify(prefix)}`);
        assert.equal(err.code, 'KEY_NOT_FOUND');
        return true;
      });
    }
    assert.equal((await listKeySlots(store)).length, 2);
  });

  it('refuses a key file whose bytes do not match its name with CORRUPT_KEY', async () => {
    const store = new MemoryStore();
    const slot = await addKeySlot(store, newMasterSecret(), PASS_A, { kdf: fastKdfParams() });
    const bytes = await store.get(slot.name);
    const tampered = Buffer.from(bytes.toString().replace('"label": "passphrase"', '"label": "passphrasf"'));
    assert.notDeepEqual(tampered, bytes);
    await store.delete(slot.name);
    await store.put(slot.name, tampered);
    await assert.rejects(unlock(store, PASS_A), (err) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.code, 'CORRUPT_KEY');
      assert.equal(err.object, slot.name);
      return true;
    });
  });

  it('a recovery key is 160 random bits in 8 base32 groups, and opens however it is typed', async () => {
    const key = generateRecoveryKey();
    assert.match(key, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/);
    assert.notEqual(generateRecoveryKey(), key);
    const store = new MemoryStore();
    const master = newMasterSecret();
    await addKeySlot(store, master, key, { kdf: fastKdfParams(), label: 'recovery' });
    for (const typed of [
      key,
      key.toLowerCase(),
      key.replaceAll('-', ''),
      key.replaceAll('-', ' '),
      ` ${key} `,
    ]) {
      assert.deepEqual((await unlock(store, typed)).master, master, JSON.stringify(typed));
    }
    assert.equal(canonicalSecret('an ordinary passphrase, kept as is'), 'an ordinary passphrase, kept as is');
    assert.equal(canonicalSecret('Mixed Case Passphrase'), 'Mixed Case Passphrase');
  });

  it('a damaged key file does not lock out the intact ones', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const a = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    await addKeySlot(store, master, PASS_B, { kdf: fastKdfParams() });
    const bytes = await store.get(a.name);
    await store.delete(a.name);
    await store.put(
      a.name,
      Buffer.from(bytes.toString().replace('"label": "passphrase"', '"label": "damaged!!!"')),
    );
    const opened = await unlock(store, PASS_B);
    assert.deepEqual(opened.master, master, 'the second passphrase still opens');
    await assert.rejects(unlock(store, PASS_A), (err) => {
      assert.ok(err instanceof IntegrityError, 'the first passphrase is told its key file is damaged');
      assert.equal(err.code, 'CORRUPT_KEY');
      assert.match(err.message, new RegExp(a.name));
      return true;
    });
    await assert.rejects(listKeySlots(store), /does not match its name/);
  });

  for (const [what, text] of [
    ['not JSON', 'this is not json'],
    ['JSON null', 'null'],
    ['an array', '[1, 2]'],
    ['version 2', JSON.stringify({ version: 2, wrapped: 'AA==', kdf: { salt: 'AA==' } })],
    ['no wrapped field', JSON.stringify({ version: 1, kdf: { salt: 'AA==' } })],
    ['no kdf', JSON.stringify({ version: 1, wrapped: 'AA==' })],
  ] as const) {
    it(`refuses a correctly named key file with CORRUPT_KEY: ${what}`, async () => {
      const store = new MemoryStore();
      const name = await putSlot(store, Buffer.from(text));
      await assert.rejects(unlock(store, PASS_A), (err) => {
        assert.ok(err instanceof IntegrityError);
        assert.equal(err.code, 'CORRUPT_KEY');
        assert.equal(err.object, name);
        return true;
      });
    });
  }

  it('a correctly named slot with a damaged wrap is simply not opened (WRONG_PASSPHRASE)', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    const slot = await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    const wrapped = Buffer.from(slot.file.wrapped, 'base64');
    wrapped[20]! ^= 1;
    await store.delete(slot.name);
    await putSlot(store, slotJson({ ...slot.file, wrapped: wrapped.toString('base64') }));
    await assert.rejects(unlock(store, PASS_A), { code: 'WRONG_PASSPHRASE' });
  });

  it('refuses a slot with out-of-range KDF parameters before deriving, naming why', async () => {
    const store = new MemoryStore();
    const slot = await addKeySlot(store, newMasterSecret(), PASS_A, { kdf: fastKdfParams() });
    await store.delete(slot.name);
    const kdf = { ...slot.file.kdf, memoryKiB: 64 * 1024 * 1024 };
    await putSlot(store, slotJson({ ...slot.file, kdf }));
    // Refused settings make the slot damaged (so it cannot lock out good slots beside it).
    await assert.rejects(unlock(store, PASS_A), (err) => {
      assert.ok(err instanceof IntegrityError, String(err));
      assert.equal(err.code, 'CORRUPT_KEY');
      assert.match(err.message, /out-of-range key-derivation parameters/);
      return true;
    });
  });

  it('refuses a repository without keys (NO_KEYS), naming its location', async () => {
    const store = new MemoryStore('memory:empty');
    await assert.rejects(unlock(store, PASS_A), (err) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'NO_KEYS');
      assert.match(err.message, /memory:empty/);
      return true;
    });
    // Objects outside keys/ do not count.
    await store.put('config', Buffer.from('x'));
    await store.put('keysX', Buffer.from('x'));
    await assert.rejects(unlock(store, PASS_A), { code: 'NO_KEYS' });
  });

  it('the slot returned by unlock carries a wrap the passphrase-derived kek opens', async () => {
    const store = new MemoryStore();
    const master = newMasterSecret();
    await addKeySlot(store, master, PASS_A, { kdf: fastKdfParams() });
    const { slot } = await unlock(store, PASS_A);
    const kek = await deriveKek(PASS_A, slot.file.kdf);
    assert.deepEqual(unwrapMaster(kek, Buffer.from(slot.file.wrapped, 'base64')), master);
  });
});

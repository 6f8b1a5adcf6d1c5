// Fuzzes key files (docs/design.md §2): plain JSON under keys/, read by scanKeySlots and
// used by unlock. Storage is untrusted, so a key file can hold anything: arbitrary bytes,
// arbitrary JSON, a valid file with one field replaced, key-derivation parameters meant
// to exhaust memory. Each must end as a damaged slot, a wrong passphrase or an
// OffsiteError — never another exception, a hang or a huge allocation.
// Budget: RUNS per property (300; unlock runs a tenth, it derives keys); OFFSITE_FUZZ_RUNS=N.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fastKdfParams } from '../../src/repo/crypto/kdf.ts';
import { addKeySlot, scanKeySlots, unlock } from '../../src/repo/keyring.ts';
import { MemoryStore } from '../../src/storage/memory/index.ts';
import {
  anyBytes,
  anyJson,
  fc,
  jsonishBytes,
  mutated,
  params,
  RUNS,
  refusesCleanlyAsync,
  testTimeout,
} from './harness.ts';

const PASSPHRASE = 'correct horse battery staple';
const KEY_FILE_KEYS = ['version', 'created', 'hostname', 'username', 'label', 'kdf', 'wrapped'];
const KDF_KEYS = ['algorithm', 'memoryKiB', 'passes', 'parallelism', 'salt', 'n', 'r', 'p'];

async function validKeyFile(): Promise<Buffer> {
  const store = new MemoryStore();
  const slot = await addKeySlot(store, randomBytes(32), PASSPHRASE, { kdf: fastKdfParams() });
  return store.get(slot.name);
}

/** A store whose keys/ holds `files` (named by their hash, as the format requires). */
async function storeWith(...files: Buffer[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const bytes of files) {
    const name = `keys/${createHash('sha256').update(bytes).digest('hex')}`;
    if ((await store.head(name)) === null) await store.put(name, bytes);
  }
  return store;
}

/** A valid key file with one field (or one kdf parameter) replaced by arbitrary JSON. */
function withOneFieldReplaced(valid: Buffer): fc.Arbitrary<Buffer> {
  const file = JSON.parse(valid.toString()) as Record<string, unknown>;
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...KEY_FILE_KEYS), anyJson)
      .map(([key, value]) => Buffer.from(JSON.stringify({ ...file, [key]: value }))),
    fc
      .tuple(fc.constantFrom(...KDF_KEYS), anyJson)
      .map(([key, value]) =>
        Buffer.from(JSON.stringify({ ...file, kdf: { ...(file.kdf as object), [key]: value } })),
      ),
  );
}

describe('fuzz: key files', () => {
  it('scanKeySlots lists any key file as a slot or as damaged', { timeout: testTimeout() }, async () => {
    const valid = await validKeyFile();
    const inputs = fc.oneof(anyBytes, jsonishBytes, mutated(fc.constant(valid)), withOneFieldReplaced(valid));
    await fc.assert(
      fc.asyncProperty(inputs, async (bytes) => {
        // Beside an intact slot: slots are sorted, so two files meet in the comparison.
        const store = await storeWith(valid, bytes);
        const scan = await refusesCleanlyAsync('scanKeySlots', bytes.length, () => scanKeySlots(store));
        assert.ok(scan, 'scanning never throws: damaged files are listed');
        assert.equal(scan.slots.length + scan.damaged.length, bytes.equals(valid) ? 1 : 2);
      }),
      params(),
    );
  });

  it('unlock opens, refuses the passphrase or names the damage for any key file', {
    timeout: testTimeout(),
  }, async () => {
    const valid = await validKeyFile();
    const inputs = fc.oneof(mutated(fc.constant(valid)), withOneFieldReplaced(valid));
    await fc.assert(
      fc.asyncProperty(inputs, async (bytes) => {
        const store = await storeWith(bytes);
        await refusesCleanlyAsync('unlock', bytes.length, () => unlock(store, PASSPHRASE), [
          'CORRUPT_KEY',
          'WRONG_PASSPHRASE',
          'BAD_KDF_PARAMS',
        ]);
      }),
      params(Math.max(10, Math.ceil(RUNS / 10))),
    );
  });

  it('unlock refuses key-derivation parameters that would exhaust memory or time', async () => {
    const file = JSON.parse((await validKeyFile()).toString()) as Record<string, unknown>;
    const salt = randomBytes(32).toString('base64');
    const hostile = [
      { algorithm: 'argon2id', memoryKiB: 256, passes: 1, parallelism: 1, salt: '' },
      { algorithm: 'scrypt', n: 1024, r: 8, p: 1, salt: '' },
      { algorithm: 'argon2id', memoryKiB: 2 ** 31, passes: 1, parallelism: 1, salt },
      { algorithm: 'argon2id', memoryKiB: 256, passes: 2 ** 31, parallelism: 1, salt },
      { algorithm: 'argon2id', memoryKiB: 256, passes: 1, parallelism: 2 ** 20, salt },
      { algorithm: 'scrypt', n: 2 ** 30, r: 8, p: 1, salt },
      { algorithm: 'scrypt', n: 2 ** 14, r: 2 ** 20, p: 1, salt },
      { algorithm: 'scrypt', n: 2 ** 14, r: 8, p: 2 ** 20, salt },
    ];
    for (const kdf of hostile) {
      const bytes = Buffer.from(JSON.stringify({ ...file, kdf }));
      await refusesCleanlyAsync(
        'unlock',
        bytes.length,
        async () => unlock(await storeWith(bytes), PASSPHRASE),
        ['CORRUPT_KEY'],
      );
      await assert.rejects(unlock(await storeWith(bytes), PASSPHRASE));
    }
  });
});

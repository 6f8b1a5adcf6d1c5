import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../../errors/index.ts';
import { deriveKek, fastKdfParams, type KdfParams } from './kdf.ts';

// Regression tests for inputs found by test/fuzz/key-file.test.ts.
describe('deriveKek', () => {
  for (const salt of ['', 'AAAA', 'AAAAAAAAAA']) {
    it(`refuses a key file salt of ${Buffer.from(salt, 'base64').length} bytes with BAD_KDF_PARAMS`, async () => {
      for (const params of [
        { ...fastKdfParams(), salt },
        { algorithm: 'scrypt', n: 1024, r: 8, p: 1, salt } as KdfParams,
      ]) {
        // Argon2 itself throws a RangeError for a salt under 8 bytes: it must not escape.
        await assert.rejects(
          deriveKek('a passphrase long enough', params),
          (err) => err instanceof BadInputError && err.code === 'BAD_KDF_PARAMS',
        );
      }
    });
  }

  it('accepts an 8-byte salt', async () => {
    const key = await deriveKek('a passphrase long enough', { ...fastKdfParams(), salt: 'AAAAAAAAAAA=' });
    assert.equal(key.length, 32);
  });
});

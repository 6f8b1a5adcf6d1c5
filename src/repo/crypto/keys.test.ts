import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BadInputError, IntegrityError } from '../../errors/index.ts';
import {
  checkPassphraseStrength,
  defaultKdfParams,
  deriveKek,
  fastKdfParams,
  type KdfParams,
  MIN_PASSPHRASE_LENGTH,
} from './kdf.ts';
import { keysFromMaster, MASTER_SECRET_BYTES, newMasterSecret, unwrapMaster, wrapMaster } from './keys.ts';

const PASS = 'correct horse battery staple';
const salt = () => randomBytes(32).toString('base64');
const scryptParams = (): KdfParams => ({ algorithm: 'scrypt', n: 1024, r: 8, p: 1, salt: salt() });

/**
 * Out-of-range parameters must be refused before any work is done. As a tripwire, the
 * salt is not a string: should the bounds check let the parameters through, deriveKek
 * fails at once on the salt (with a TypeError, not BAD_KDF_PARAMS) instead of trying
 * to allocate gigabytes.
 */
function tripwire(params: Record<string, unknown>): KdfParams {
  return { ...params, salt: 12345 } as unknown as KdfParams;
}

async function refusesParams(params: KdfParams): Promise<void> {
  await assert.rejects(deriveKek(PASS, params), (err) => {
    assert.ok(
      err instanceof BadInputError,
      `expected BadInputError for ${JSON.stringify(params)}, got ${String(err)}`,
    );
    assert.equal(err.code, 'BAD_KDF_PARAMS');
    return true;
  });
}

describe('deriveKek', () => {
  for (const [name, make] of [
    ['argon2id', fastKdfParams],
    ['scrypt', scryptParams],
  ] as const) {
    it(`${name}: deterministic for the same passphrase, salt and parameters`, async () => {
      const params = make();
      const a = await deriveKek(PASS, params);
      const b = await deriveKek(PASS, { ...params });
      assert.equal(a.length, 32);
      assert.deepEqual(a, b);
    });

    it(`${name}: different passphrase, salt or cost gives a different key`, async () => {
      const params = make();
      const base = await deriveKek(PASS, params);
      assert.notDeepEqual(await deriveKek(`${PASS}!`, params), base);
      assert.notDeepEqual(await deriveKek(PASS, { ...params, salt: salt() }), base);
      const costlier: KdfParams =
        params.algorithm === 'argon2id'
          ? { ...params, passes: params.passes + 1 }
          : { ...params, r: params.r + 1 };
      assert.notDeepEqual(await deriveKek(PASS, costlier), base);
    });
  }

  it('argon2id and scrypt give different keys for the same passphrase and salt', async () => {
    const s = salt();
    const a = await deriveKek(PASS, { ...fastKdfParams(), salt: s });
    const b = await deriveKek(PASS, { ...scryptParams(), salt: s });
    assert.notDeepEqual(a, b);
  });

  it('normalizes to NFC: composed and decomposed "é" give the same key', async () => {
    const composed = 'caf\u00e9 au lait, s\u00e9ch\u00e9';
    const decomposed = 'cafe\u0301 au lait, se\u0301che\u0301';
    assert.notEqual(composed, decomposed);
    for (const params of [fastKdfParams(), scryptParams()]) {
      assert.deepEqual(await deriveKek(composed, params), await deriveKek(decomposed, params));
    }
  });

  it('defaultKdfParams is argon2id 64 MiB, 3 passes, 2 lanes, 32-byte random salt (docs/design.md §2)', () => {
    const a = defaultKdfParams();
    assert.equal(a.algorithm, 'argon2id');
    if (a.algorithm !== 'argon2id') return;
    assert.equal(a.memoryKiB, 65536);
    assert.equal(a.passes, 3);
    assert.equal(a.parallelism, 2);
    assert.equal(Buffer.from(a.salt, 'base64').length, 32);
    assert.notEqual(defaultKdfParams().salt, a.salt);
  });

  const outOfRange: Record<string, unknown>[] = [
    { algorithm: 'argon2id', memoryKiB: 7, passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 4 * 1024 * 1024 + 1, passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 256, passes: 0, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 256, passes: 65, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 256, passes: 1, parallelism: 0 },
    { algorithm: 'argon2id', memoryKiB: 256, passes: 1, parallelism: 17 },
    { algorithm: 'argon2id', memoryKiB: Number.NaN, passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 256, passes: 1 },
    { algorithm: 'scrypt', n: 1, r: 8, p: 1 },
    { algorithm: 'scrypt', n: 2 ** 23, r: 8, p: 1 },
    { algorithm: 'scrypt', n: 1024, r: 0, p: 1 },
    { algorithm: 'scrypt', n: 1024, r: 65, p: 1 },
    { algorithm: 'scrypt', n: 1024, r: 8, p: 0 },
    { algorithm: 'scrypt', n: 1024, r: 8, p: 17 },
    { algorithm: 'scrypt', r: 8, p: 1 },
  ];
  for (const params of outOfRange) {
    it(`refuses out-of-range parameters with BAD_KDF_PARAMS: ${JSON.stringify(params)}`, async () => {
      await refusesParams(tripwire(params));
    });
  }

  // docs/design.md §2: "Parameters outside sane bounds (e.g. 4 GiB of memory) are refused".
  it('refuses argon2id with 4 GiB of memory (the example design.md gives of an insane bound)', async () => {
    await refusesParams(
      tripwire({ algorithm: 'argon2id', memoryKiB: 4 * 1024 * 1024, passes: 1, parallelism: 1 }),
    );
  });

  // scrypt needs about 128·n·r bytes: n = 2^22, r = 64 is 32 GiB, eight times argon2id's cap.
  it('refuses scrypt parameters that need 32 GiB of memory (n = 2^22, r = 64)', async () => {
    await refusesParams(tripwire({ algorithm: 'scrypt', n: 2 ** 22, r: 64, p: 1 }));
  });

  it('refuses an unknown KDF algorithm instead of treating it as scrypt', async () => {
    await refusesParams({ algorithm: 'bcrypt', n: 1024, r: 8, p: 1, salt: salt() } as unknown as KdfParams);
  });

  // A tampered key file is parsed JSON: these pass the range check but Node's KDFs throw
  // their own TypeError / RangeError, so unlock fails with an internal error, not BAD_KDF_PARAMS.
  const malformed: Record<string, unknown>[] = [
    { algorithm: 'argon2id', memoryKiB: '256', passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 256.5, passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 8, passes: 1, parallelism: 16 },
    { algorithm: 'scrypt', n: 1000, r: 8, p: 1 },
  ];
  it('refuses malformed in-range parameters (string, fractional, memory < 8·lanes, n not a power of 2) with BAD_KDF_PARAMS', async () => {
    const escaped: string[] = [];
    for (const params of malformed) {
      try {
        await deriveKek(PASS, { ...params, salt: salt() } as unknown as KdfParams);
        escaped.push(`${JSON.stringify(params)}: accepted`);
      } catch (err) {
        if (!(err instanceof BadInputError && err.code === 'BAD_KDF_PARAMS')) {
          escaped.push(
            `${JSON.stringify(params)}: ${(err as Error).name} ${(err as { code?: string }).code}`,
          );
        }
      }
    }
    assert.deepEqual(escaped, []);
  });
});

describe('checkPassphraseStrength', () => {
  const refusesShort = (p: string) =>
    assert.throws(
      () => checkPassphraseStrength(p),
      (err) => err instanceof BadInputError && err.code === 'PASSPHRASE_TOO_SHORT' && err.hint !== undefined,
    );

  it('refuses 15 characters and accepts 16', () => {
    assert.equal(MIN_PASSPHRASE_LENGTH, 16);
    refusesShort('');
    refusesShort('a'.repeat(15));
    checkPassphraseStrength('a'.repeat(16));
    checkPassphraseStrength('a'.repeat(100));
  });

  it('counts Unicode code points, not UTF-16 units or bytes', () => {
    // 8 emoji are 16 UTF-16 units but only 8 characters.
    assert.equal('😀'.repeat(8).length, 16);
    refusesShort('😀'.repeat(8));
    refusesShort('😀'.repeat(15));
    checkPassphraseStrength('😀'.repeat(16));
    // 15 "é" are 30 UTF-8 bytes but 15 characters.
    refusesShort('\u00e9'.repeat(15));
    checkPassphraseStrength('\u00e9'.repeat(16));
  });
});

describe('wrapMaster / unwrapMaster', () => {
  const kek = randomBytes(32);
  const master = newMasterSecret();

  it('round-trips; the wrapped form is nonce(12) ‖ ciphertext(32) ‖ tag(16) and random', () => {
    const wrapped = wrapMaster(kek, master);
    assert.equal(wrapped.length, 12 + 32 + 16);
    assert.ok(!wrapped.includes(master));
    assert.deepEqual(unwrapMaster(kek, wrapped), master);
    assert.notDeepEqual(wrapMaster(kek, master), wrapped, 'fresh nonce per wrap');
  });

  it('returns undefined for the wrong kek', () => {
    assert.equal(unwrapMaster(randomBytes(32), wrapMaster(kek, master)), undefined);
  });

  it('returns undefined for a flipped bit anywhere, and for a wrong length', () => {
    const wrapped = wrapMaster(kek, master);
    for (let i = 0; i < wrapped.length; i++) {
      const bad = Buffer.from(wrapped);
      bad[i]! ^= 4;
      assert.equal(unwrapMaster(kek, bad), undefined, `byte ${i}`);
    }
    assert.equal(unwrapMaster(kek, wrapped.subarray(0, 59)), undefined);
    assert.equal(unwrapMaster(kek, Buffer.concat([wrapped, Buffer.alloc(1)])), undefined);
    assert.equal(unwrapMaster(kek, Buffer.alloc(0)), undefined);
  });
});

describe('keysFromMaster', () => {
  it('derives three different 32-byte keys, deterministically', () => {
    const master = newMasterSecret();
    assert.equal(master.length, MASTER_SECRET_BYTES);
    const a = keysFromMaster(master);
    const b = keysFromMaster(Buffer.from(master));
    for (const k of [a.encKey, a.idKey, a.chunkerSecret]) {
      assert.equal(k.length, 32);
      assert.notDeepEqual(k, master);
    }
    assert.notDeepEqual(a.encKey, a.idKey);
    assert.notDeepEqual(a.encKey, a.chunkerSecret);
    assert.notDeepEqual(a.idKey, a.chunkerSecret);
    assert.deepEqual(b.encKey, a.encKey);
    assert.deepEqual(b.idKey, a.idKey);
    assert.deepEqual(b.chunkerSecret, a.chunkerSecret);
    assert.deepEqual(a.master, master);
    assert.notDeepEqual(keysFromMaster(newMasterSecret()).encKey, a.encKey);
  });

  it('uses the HKDF labels of docs/design.md §2', () => {
    const master = newMasterSecret();
    const keys = keysFromMaster(master);
    const h = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
    assert.deepEqual(keys.encKey, h('offsite v1 encryption'));
    assert.deepEqual(keys.idKey, h('offsite v1 blob id'));
    assert.deepEqual(keys.chunkerSecret, h('offsite v1 chunker'));
  });

  it('refuses a master secret of the wrong length', () => {
    for (const n of [0, 16, 31, 33, 64]) {
      assert.throws(
        () => keysFromMaster(randomBytes(n)),
        (err) => err instanceof IntegrityError && err.code === 'BAD_MASTER_KEY',
      );
    }
  });
});

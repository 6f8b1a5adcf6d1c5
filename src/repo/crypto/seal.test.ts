import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError } from '../../errors/index.ts';
import {
  type BlobHeader,
  FILE_HEADER_BYTES,
  FILE_TYPES,
  type FileType,
  hex,
  openBlob,
  openFile,
  openPackHeader,
  packKey,
  SEAL_OVERHEAD,
  sealBlob,
  sealFile,
  sealPackHeader,
} from './seal.ts';

const TYPES = Object.keys(FILE_TYPES) as FileType[];
const SALT = 32;
const TAG = 16;
const NAME = 'index/0123abcd';

/** Asserts an IntegrityError with `code` (or one of `codes`) that names `object`. */
function refused(fn: () => unknown, codes: string | string[], object: string): void {
  const allowed = typeof codes === 'string' ? [codes] : codes;
  assert.throws(fn, (err) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.ok(allowed.includes(err.code), `unexpected code ${err.code}`);
    assert.equal(err.object, object);
    return true;
  });
}

describe('sealFile / openFile', () => {
  const key = randomBytes(32);

  for (const type of TYPES) {
    it(`round-trips a ${type} file`, () => {
      const body = Buffer.from(`{"hello":"${type}"}`);
      const sealed = sealFile(key, type, body);
      assert.equal(sealed.length, FILE_HEADER_BYTES + SALT + body.length + TAG);
      assert.deepEqual(
        sealed.subarray(0, FILE_HEADER_BYTES),
        Buffer.from([0x4f, 0x46, 0x53, 1, FILE_TYPES[type]]),
      );
      assert.ok(!sealed.includes(body), 'the body is not stored in clear');
      assert.deepEqual(openFile(key, type, sealed, NAME), body);
    });
  }

  it('round-trips an empty body and a large one', () => {
    assert.deepEqual(openFile(key, 'index', sealFile(key, 'index', Buffer.alloc(0)), NAME), Buffer.alloc(0));
    const big = randomBytes(1 << 20);
    assert.deepEqual(openFile(key, 'snapshot', sealFile(key, 'snapshot', big), NAME), big);
  });

  it('follows the format of docs/design.md §3 (independent decryption)', () => {
    const body = Buffer.from('spec check');
    const sealed = sealFile(key, 'snapshot', body);
    const header = sealed.subarray(0, 5);
    const salt = sealed.subarray(5, 37);
    const fileKey = Buffer.from(hkdfSync('sha256', key, salt, 'offsite v1 file snapshot', 32));
    const d = createDecipheriv('aes-256-gcm', fileKey, Buffer.alloc(12));
    d.setAAD(header);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    assert.deepEqual(Buffer.concat([d.update(sealed.subarray(37, sealed.length - 16)), d.final()]), body);
  });

  it('two seals of the same plaintext differ (fresh salt each time)', () => {
    const body = Buffer.from('same plaintext');
    const a = sealFile(key, 'config', body);
    const b = sealFile(key, 'config', body);
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(a.subarray(5, 5 + SALT), b.subarray(5, 5 + SALT));
    assert.notDeepEqual(a.subarray(5 + SALT), b.subarray(5 + SALT));
  });

  it('refuses the wrong key with AUTH_FAILED naming the object', () => {
    const sealed = sealFile(key, 'index', Buffer.from('secret index'));
    assert.throws(
      () => openFile(randomBytes(32), 'index', sealed, NAME),
      (err) => {
        assert.ok(err instanceof IntegrityError);
        assert.equal(err.code, 'AUTH_FAILED');
        assert.equal(err.kind, 'integrity');
        assert.equal(err.object, NAME);
        assert.match(err.message, new RegExp(NAME));
        return true;
      },
    );
  });

  it('refuses a flipped bit in every byte: header, salt, body and tag', () => {
    const sealed = sealFile(key, 'snapshot', Buffer.from('twenty bytes of body'));
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = Buffer.from(sealed);
        bad[i]! ^= mask;
        // Header bytes are refused before decryption; everything else by the tag.
        refused(
          () => openFile(key, 'snapshot', bad, NAME),
          i < FILE_HEADER_BYTES ? 'CORRUPT_OBJECT' : 'AUTH_FAILED',
          NAME,
        );
      }
    }
  });

  it('refuses type confusion: sealed as index, opened as snapshot', () => {
    const sealed = sealFile(key, 'index', Buffer.from('{}'));
    refused(() => openFile(key, 'snapshot', sealed, NAME), 'CORRUPT_OBJECT', NAME);
    refused(() => openFile(key, 'config', sealed, NAME), 'CORRUPT_OBJECT', NAME);
  });

  it('refuses type confusion even when the type byte is rewritten (type is bound to key and AAD)', () => {
    const sealed = sealFile(key, 'index', Buffer.from('{}'));
    const relabelled = Buffer.from(sealed);
    relabelled[4] = FILE_TYPES.snapshot;
    refused(() => openFile(key, 'snapshot', relabelled, NAME), 'AUTH_FAILED', NAME);
  });

  it('refuses an unknown version', () => {
    const sealed = sealFile(key, 'config', Buffer.from('{}'));
    sealed[3] = 2;
    refused(() => openFile(key, 'config', sealed, NAME), 'CORRUPT_OBJECT', NAME);
  });

  it('refuses input truncated at every length', () => {
    const sealed = sealFile(key, 'index', Buffer.from('some body bytes'));
    for (let n = 0; n < sealed.length; n++) {
      const short = sealed.subarray(0, n);
      const code = n < FILE_HEADER_BYTES + SALT + TAG ? 'CORRUPT_OBJECT' : 'AUTH_FAILED';
      refused(() => openFile(key, 'index', short, NAME), code, NAME);
    }
  });

  it('refuses extra bytes appended', () => {
    const sealed = sealFile(key, 'index', Buffer.from('body'));
    refused(
      () => openFile(key, 'index', Buffer.concat([sealed, Buffer.from([0])]), NAME),
      'AUTH_FAILED',
      NAME,
    );
  });

  it('refuses garbage that is not an Offsite file', () => {
    refused(
      () => openFile(key, 'config', Buffer.from('{"version":1}'), 'config'),
      'CORRUPT_OBJECT',
      'config',
    );
    refused(() => openFile(key, 'config', randomBytes(200), 'config'), 'CORRUPT_OBJECT', 'config');
  });
});

describe('sealBlob / openBlob', () => {
  const key = packKey(randomBytes(32), randomBytes(32));
  const header: BlobHeader = { type: 0, compressed: true, id: randomBytes(32), offset: 40 };
  const data = Buffer.from('the plaintext of one data blob, perhaps compressed');
  const sealed = Buffer.concat(sealBlob(key, header, data));
  const WHERE = 'data/ab/abcdef';

  it('round-trips, adding exactly SEAL_OVERHEAD bytes', () => {
    assert.equal(SEAL_OVERHEAD, 16);
    assert.equal(sealed.length, data.length + SEAL_OVERHEAD);
    assert.ok(!sealed.includes(data));
    assert.deepEqual(openBlob(key, header, sealed, WHERE), data);
  });

  it('round-trips an empty blob and a blob at a large (48-bit) offset', () => {
    const empty = Buffer.concat(sealBlob(key, header, Buffer.alloc(0)));
    assert.equal(empty.length, SEAL_OVERHEAD);
    assert.deepEqual(openBlob(key, header, empty, WHERE), Buffer.alloc(0));
    const far = { ...header, offset: 2 ** 40 + 7 };
    assert.deepEqual(openBlob(key, far, Buffer.concat(sealBlob(key, far, data)), WHERE), data);
  });

  it('uses nonce = 6 zero bytes ‖ offset (48-bit BE) and AAD = type ‖ flag ‖ id (docs/design.md §4)', () => {
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(header.offset, 6, 6);
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(Buffer.concat([Buffer.from([header.type, 1]), header.id]));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    assert.deepEqual(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]), data);
  });

  it('gives different ciphertexts for the same plaintext at different offsets', () => {
    const other = Buffer.concat(sealBlob(key, { ...header, offset: header.offset + 1 }, data));
    assert.notDeepEqual(other, sealed);
  });

  // The id differs in its last byte whatever random value it had (fill(7) failed 1 in 256 runs).
  const otherId = Buffer.from(header.id);
  otherId[31]! ^= 0xff;
  const wrong: [string, BlobHeader][] = [
    ['offset', { ...header, offset: header.offset + 1 }],
    ['id', { ...header, id: otherId }],
    ['type', { ...header, type: 1 }],
    ['compressed flag', { ...header, compressed: false }],
  ];
  for (const [what, bad] of wrong) {
    it(`refuses the wrong ${what} with AUTH_FAILED`, () => {
      refused(() => openBlob(key, bad, sealed, WHERE), 'AUTH_FAILED', WHERE);
    });
  }

  it('refuses the wrong key', () => {
    refused(
      () => openBlob(packKey(randomBytes(32), randomBytes(32)), header, sealed, WHERE),
      'AUTH_FAILED',
      WHERE,
    );
  });

  it('refuses a flipped bit in every byte', () => {
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x10;
      refused(() => openBlob(key, header, bad, WHERE), 'AUTH_FAILED', WHERE);
    }
  });

  it('refuses truncation at every length (CORRUPT_BLOB below a tag, AUTH_FAILED above)', () => {
    for (let n = 0; n < sealed.length; n++) {
      refused(
        () => openBlob(key, header, sealed.subarray(0, n), WHERE),
        n < 16 ? 'CORRUPT_BLOB' : 'AUTH_FAILED',
        WHERE,
      );
    }
  });

  it('names the blob id in the message', () => {
    assert.throws(() => openBlob(key, { ...header, type: 1 }, sealed, WHERE), new RegExp(hex(header.id)));
  });
});

describe('sealPackHeader / openPackHeader', () => {
  const key = packKey(randomBytes(32), randomBytes(32));
  const plain = Buffer.from([1, 0, 0, 0, ...randomBytes(46)]);
  const WHERE = 'data/00/pack';

  it('round-trips', () => {
    const sealed = sealPackHeader(key, plain);
    assert.equal(sealed.length, plain.length + SEAL_OVERHEAD);
    assert.deepEqual(openPackHeader(key, sealed, WHERE), plain);
  });

  it('refuses the wrong key, a flipped bit, truncation and a too-short input', () => {
    const sealed = sealPackHeader(key, plain);
    refused(
      () => openPackHeader(packKey(randomBytes(32), randomBytes(32)), sealed, WHERE),
      'AUTH_FAILED',
      WHERE,
    );
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 1;
      refused(() => openPackHeader(key, bad, WHERE), 'AUTH_FAILED', WHERE);
    }
    for (let n = 0; n < sealed.length; n++) {
      refused(() => openPackHeader(key, sealed.subarray(0, n), WHERE), 'AUTH_FAILED', WHERE);
    }
  });

  it('is not interchangeable with a blob sealed under the same key (distinct nonce and AAD)', () => {
    const asBlob = Buffer.concat(
      sealBlob(key, { type: 0, compressed: false, id: Buffer.alloc(32), offset: 40 }, plain),
    );
    refused(() => openPackHeader(key, asBlob, WHERE), 'AUTH_FAILED', WHERE);
  });
});

describe('packKey and hex', () => {
  it('packKey is HKDF(encKey, salt, "offsite v1 pack"), different per salt', () => {
    const encKey = randomBytes(32);
    const salt = randomBytes(32);
    assert.deepEqual(
      packKey(encKey, salt).export(),
      Buffer.from(hkdfSync('sha256', encKey, salt, 'offsite v1 pack', 32)),
    );
    assert.notDeepEqual(packKey(encKey, salt).export(), packKey(encKey, randomBytes(32)).export());
  });

  it('hex reads only the view, not the whole underlying buffer', () => {
    const big = Buffer.from('00112233445566', 'hex');
    assert.equal(hex(big.subarray(2, 4)), '2233');
    assert.equal(hex(new Uint8Array([0xab, 0x01])), 'ab01');
  });
});

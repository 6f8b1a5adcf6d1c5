// Fuzzes the pack parsers (docs/design.md §4): the whole-pack parser and the header
// parser on arbitrary and mutated packs (refused by authentication or by the bounds
// checks), the header decoder on crafted plaintext sealed with the right key (what a
// compromised key holder could write), blob opening and zstd framing.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decompress, decompressSync } from '../../src/repo/compress.ts';
import { openBlob, packKey, sealPackHeader } from '../../src/repo/crypto/seal.ts';
import {
  PACK_ENTRY_BYTES,
  PACK_PREFIX_BYTES,
  PackBuilder,
  parsePack,
  parsePackHeader,
} from '../../src/repo/pack.ts';
import {
  anyBytes,
  fc,
  mutated,
  params,
  refusesCleanly,
  refusesCleanlyAsync,
  testTimeout,
} from './harness.ts';

const encKey = randomBytes(32);
const NAME = 'data/ab/fuzz';
const PACK_CODES = ['CORRUPT_PACK', 'AUTH_FAILED'];

const validPack = fc
  .array(
    fc.record({
      type: fc.constantFrom(0, 1),
      data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
      compressed: fc.boolean(),
    }),
    { maxLength: 6 },
  )
  .map((blobs) => {
    const builder = new PackBuilder(encKey, 4096);
    for (const b of blobs) builder.add(b.type, randomBytes(32), b.data, b.compressed, b.data.length);
    return Buffer.from(builder.finish().bytes);
  });

/** A pack whose header plaintext is arbitrary, sealed with the real key: only bounds checks stand. */
const craftedHeaderPack = fc
  .tuple(
    fc.nat({ max: 20_000 }),
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc
        .array(
          fc
            .tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat(), fc.nat(), fc.nat())
            .map(([t, f, o, l, r]) => {
              const e = Buffer.alloc(PACK_ENTRY_BYTES);
              e[0] = t;
              e[1] = f;
              e.writeUInt32LE(o >>> 0, 34);
              e.writeUInt32LE(l >>> 0, 38);
              e.writeUInt32LE(r >>> 0, 42);
              return e;
            }),
          { maxLength: 8 },
        )
        .chain((entries) =>
          fc.constantFrom(entries.length, 0xffffffff, 0x10000000, entries.length + 1).map((count) => {
            const head = Buffer.alloc(4);
            head.writeUInt32LE(count >>> 0);
            return Buffer.concat([head, ...entries]);
          }),
        ),
    ),
  )
  .map(([bodyBytes, plaintext]) => {
    const salt = randomBytes(32);
    const prefix = Buffer.concat([Buffer.from('OFSP'), Buffer.from([1, 0, 0, 0]), salt]);
    const header = sealPackHeader(packKey(encKey, salt), plaintext);
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(header.length);
    return Buffer.concat([prefix, Buffer.alloc(bodyBytes), header, trailer]);
  });

describe('fuzz: packs', () => {
  it('parsePack refuses arbitrary bytes with CORRUPT_PACK or AUTH_FAILED', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        refusesCleanly('parsePack', bytes.length, () => parsePack(bytes, encKey, NAME), PACK_CODES);
      }),
      params(),
    );
  });

  it('parsePack parses valid packs and refuses mutated ones cleanly', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(validPack, (bytes) => {
        const parsed = refusesCleanly('parsePack', bytes.length, () => parsePack(bytes, encKey, NAME));
        assert.ok(parsed, 'a valid pack parses');
      }),
      params(50),
    );
    fc.assert(
      fc.property(mutated(validPack), (bytes) => {
        refusesCleanly('parsePack', bytes.length, () => parsePack(bytes, encKey, NAME), PACK_CODES);
      }),
      params(),
    );
  });

  it('parsePackHeader bounds-checks crafted headers sealed with the right key', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(craftedHeaderPack, (bytes) => {
        const result = refusesCleanly(
          'parsePack',
          bytes.length,
          () => parsePack(bytes, encKey, NAME),
          PACK_CODES,
        );
        const headerStart = bytes.length - 4 - bytes.readUInt32LE(bytes.length - 4);
        for (const e of result?.entries ?? []) {
          assert.ok(
            e.offset >= PACK_PREFIX_BYTES && e.offset + e.length <= headerStart,
            'entry inside the pack',
          );
        }
      }),
      params(),
    );
  });

  it('parsePackHeader refuses arbitrary prefixes, headers and sizes', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(anyBytes, anyBytes, fc.nat(), (prefix, header, size) => {
        refusesCleanly(
          'parsePackHeader',
          prefix.length + header.length,
          () => parsePackHeader(prefix, header, size, encKey, NAME),
          PACK_CODES,
        );
      }),
      params(),
    );
  });

  it('openBlob refuses arbitrary sealed blobs with AUTH_FAILED or CORRUPT_BLOB', {
    timeout: testTimeout(),
  }, () => {
    const key = packKey(encKey, randomBytes(32));
    fc.assert(
      fc.property(
        anyBytes,
        fc.nat(),
        fc.constantFrom(0, 1),
        fc.boolean(),
        (sealed, offset, type, compressed) => {
          const blob = { type, compressed, id: randomBytes(32), offset };
          refusesCleanly('openBlob', sealed.length, () => openBlob(key, blob, sealed, NAME), [
            'AUTH_FAILED',
            'CORRUPT_BLOB',
          ]);
        },
      ),
      params(),
    );
  });

  it('decompress refuses arbitrary frames and bounds what a frame may expand to', {
    timeout: testTimeout(),
  }, async () => {
    // A real frame of 64 MiB of zeros is a few KiB: a recorded length must bound it.
    const bomb = (await import('node:zlib')).zstdCompressSync(Buffer.alloc(64 * 1024 * 1024));
    refusesCleanly('decompressSync', bomb.length, () => decompressSync(bomb, 100, NAME), ['CORRUPT_BLOB']);
    await refusesCleanlyAsync('decompress', bomb.length, () => decompress(bomb, 100, NAME), ['CORRUPT_BLOB']);
    await fc.assert(
      fc.asyncProperty(anyBytes, fc.nat({ max: 1 << 20 }), async (data, rawLength) => {
        refusesCleanly('decompressSync', data.length, () => decompressSync(data, rawLength, NAME), [
          'CORRUPT_BLOB',
        ]);
        await refusesCleanlyAsync('decompress', data.length, () => decompress(data, undefined, NAME), [
          'CORRUPT_BLOB',
        ]);
      }),
      params(),
    );
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { zstdCompressSync } from 'node:zlib';
import { IntegrityError } from '../errors/index.ts';
import { BlobCompressor, compress, decompress, decompressSync } from './compress.ts';

const WHERE = 'blob ab12 in data/ab/cd';

async function corruptBlob(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.equal(err.code, 'CORRUPT_BLOB');
    assert.equal(err.object, WHERE);
    return true;
  });
}

const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(2000));

describe('compress', () => {
  it('returns null for data under 64 bytes, however compressible', async () => {
    assert.equal(await compress(Buffer.alloc(0), 3), null);
    assert.equal(await compress(Buffer.alloc(63), 3), null);
  });

  it('shrinks compressible data, which round-trips', async () => {
    const out = await compress(text, 3);
    assert.ok(out);
    assert.ok(out.length < text.length / 10, `${out.length} bytes from ${text.length}`);
    assert.deepEqual(await decompress(out, text.length, WHERE), text);
    assert.deepEqual(await decompress(out, undefined, WHERE), text);
  });

  it('compresses 64 bytes of zeros (the threshold is inclusive)', async () => {
    const out = await compress(Buffer.alloc(64), 3);
    assert.ok(out && out.length < 64);
    assert.deepEqual(await decompress(out, 64, WHERE), Buffer.alloc(64));
  });

  it('returns null for incompressible data', async () => {
    assert.equal(await compress(randomBytes(100_000), 3), null);
    assert.equal(await compress(randomBytes(100), 19), null);
  });

  it('honours the level: a higher level is no larger', async () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `${i * 7919}`).join(','));
    const fast = (await compress(data, 1))!;
    const best = (await compress(data, 19))!;
    assert.ok(best.length <= fast.length);
    assert.deepEqual(await decompress(best, data.length, WHERE), data);
  });
});

describe('BlobCompressor (one zstd context and output buffer for many blobs)', () => {
  it('makes one whole frame per blob, also after an incompressible blob left a frame unfinished', () => {
    const compressor = new BlobCompressor(3, 1 << 20);
    const blobs = [
      text,
      randomBytes(200_000),
      Buffer.alloc(100_000, 7),
      randomBytes(64),
      Buffer.from(text.subarray(0, 5000)),
      randomBytes(1 << 20),
      text,
    ];
    const results = blobs.map((blob) => {
      const packed = compressor.compress(blob);
      return packed === null ? null : Buffer.from(packed);
    });
    assert.deepEqual(
      results.map((r) => r === null),
      [false, true, false, true, false, true, false],
    );
    for (const [i, packed] of results.entries()) {
      if (packed === null) continue;
      assert.ok(packed.length < blobs[i]!.length);
      assert.ok(decompressSync(packed, blobs[i]!.length, WHERE).equals(blobs[i]!), `blob ${i}`);
    }
  });

  it('compresses a blob larger than its buffer through the one-shot path', () => {
    const compressor = new BlobCompressor(3, 1024);
    const packed = compressor.compress(text);
    assert.ok(packed !== null && packed.length < text.length);
    assert.ok(decompressSync(packed, text.length, WHERE).equals(text));
  });
});

describe('decompress refuses damaged data with CORRUPT_BLOB', () => {
  it('refuses a wrong rawLength, shorter or longer', async () => {
    const out = (await compress(text, 3))!;
    await corruptBlob(decompress(out, text.length - 1, WHERE));
    await corruptBlob(decompress(out, text.length + 1, WHERE));
    await corruptBlob(decompress(out, 0, WHERE));
  });

  // Not a flipped byte: zstd frames carry no checksum here, so a flip inside the literals can
  // decode to other bytes of the right length. Blobs are authenticated (GCM) and their ids
  // recomputed (HMAC) instead; decompress only has to bound and size-check its output.
  it('refuses garbage and truncation', async () => {
    const out = (await compress(text, 3))!;
    await corruptBlob(decompress(randomBytes(500), 1000, WHERE));
    await corruptBlob(decompress(Buffer.from('not zstd at all'), undefined, WHERE));
    await corruptBlob(decompress(out.subarray(0, out.length - 1), text.length, WHERE));
    await corruptBlob(decompress(out.subarray(0, 4), text.length, WHERE));
    await corruptBlob(decompress(Buffer.alloc(0), 10, WHERE));
  });

  it('accepts an empty frame claiming 0 bytes', async () => {
    assert.deepEqual(await decompress(zstdCompressSync(Buffer.alloc(0)), 0, WHERE), Buffer.alloc(0));
  });

  it('refuses a zstd bomb: 64 MiB of zeros claimed as 1000 bytes', async () => {
    const bomb = (await compress(Buffer.alloc(64 * 1024 * 1024), 3))!;
    assert.ok(bomb.length < 64 * 1024, 'the bomb is small');
    await corruptBlob(decompress(bomb, 1000, WHERE));
  });
});

import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import {
  Chunker,
  type ChunkerParams,
  chunkBuffer,
  chunkFile,
  DEFAULT_CHUNKER_PARAMS,
  gearTable,
} from './chunker.ts';

const MiB = 1024 * 1024;
const SMALL: ChunkerParams = { min: 61, avg: 256, max: 1001 };

/** Deterministic pseudo-random bytes (AES-256-CTR keystream), so failures reproduce. */
function pseudoRandom(length: number, seed = 1): Buffer {
  return createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(length));
}

function secret(seed: number): Buffer {
  return Buffer.alloc(32, seed);
}

function lengths(data: Uint8Array, chunker: Chunker): number[] {
  return [...chunkBuffer(data, chunker)].map((c) => c.length);
}

/** The specification, written as plainly as possible, to check the unrolled loop against. */
function referenceCut(
  gear: Uint32Array,
  p: ChunkerParams,
  data: Uint8Array,
  end: number,
  final: boolean,
): number {
  const topBits = (n: number) => 2 ** 32 - 2 ** (32 - n);
  const maskS = topBits(Math.log2(p.avg) + 2);
  const maskL = topBits(Math.log2(p.avg) - 2);
  const limit = Math.min(end, p.max);
  let h = 0;
  for (let i = p.min; i < limit; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & (i < p.avg ? maskS : maskL)) === 0) return i + 1;
  }
  if (limit === p.max) return p.max;
  return final ? end : -1;
}

function referenceLengths(gear: Uint32Array, p: ChunkerParams, data: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = referenceCut(gear, p, data.subarray(pos), data.length - pos, true);
    out.push(len);
    pos += len;
  }
  return out;
}

describe('gearTable', () => {
  it('is deterministic and depends on the secret', () => {
    assert.deepEqual(gearTable(secret(7)), gearTable(secret(7)));
    assert.notDeepEqual(gearTable(secret(7)), gearTable(secret(8)));
    assert.equal(gearTable(secret(7)).length, 256);
  });

  it('matches the documented derivation (known answer)', () => {
    // HMAC-SHA256(0^32, "offsite/chunker/gear/v1" || uint32be(0)), read as little-endian uint32.
    assert.deepEqual(
      [...gearTable(Buffer.alloc(32)).subarray(0, 4)],
      [0xbc017ac2, 0xe8eb2f66, 0x916dbe3e, 0x41f9c3ae],
    );
  });

  it('rejects a secret that is not 32 bytes', () => {
    assert.throws(() => gearTable(Buffer.alloc(16)), BadInputError);
  });
});

describe('Chunker parameters', () => {
  const gear = gearTable(secret(1));
  it('rejects bad sizes', () => {
    for (const p of [
      { min: 256, avg: 1000, max: 4096 },
      { min: 2048, avg: 1024, max: 4096 },
      { min: 256, avg: 1024, max: 1024 },
      { min: -1, avg: 1024, max: 4096 },
      { min: 0.5, avg: 1024, max: 4096 },
      { min: 0, avg: 4, max: 16 },
    ]) {
      assert.throws(() => new Chunker(gear, p), BadInputError, JSON.stringify(p));
    }
    assert.throws(() => new Chunker(new Uint32Array(255)), BadInputError);
  });

  it('accepts the defaults: 256 KiB / 1 MiB / 8 MiB', () => {
    assert.deepEqual({ ...DEFAULT_CHUNKER_PARAMS }, { min: 256 * 1024, avg: MiB, max: 8 * MiB });
    const c = new Chunker(gear);
    assert.deepEqual([c.min, c.avg, c.max], [256 * 1024, MiB, 8 * MiB]);
  });
});

describe('Chunker.cut', () => {
  const gear = gearTable(secret(3));
  const chunker = new Chunker(gear, SMALL);

  it('asks for more data only while fewer than max bytes are available', () => {
    const zeros = Buffer.alloc(5000); // gear hash of a constant run never hits the masks here
    assert.equal(chunker.cut(zeros, 0, 0, true), 0);
    assert.equal(chunker.cut(zeros, 0, 10, false), -1);
    assert.equal(chunker.cut(zeros, 0, 10, true), 10);
    assert.equal(chunker.cut(zeros, 100, 1000, false), -1);
    assert.equal(chunker.cut(zeros, 100, 1000, true), 900);
    assert.equal(chunker.cut(zeros, 100, 1101, false), 1001);
  });

  it('finds exactly the boundaries of the plain reference loop', () => {
    for (const [params, size] of [
      [SMALL, 200_000],
      [{ min: 0, avg: 64, max: 300 }, 50_000],
      [{ min: 1000, avg: 1024, max: 1030 }, 50_000],
      [{ min: 64 * 1024, avg: 256 * 1024, max: 2 * MiB }, 8 * MiB],
    ] as const) {
      const data = pseudoRandom(size, 9);
      assert.deepEqual(lengths(data, new Chunker(gear, params)), referenceLengths(gear, params, data));
    }
  });

  it('gives the same cut however much data is offered beyond it', () => {
    const data = pseudoRandom(4000, 4);
    const full = chunker.cut(data, 0, data.length, false);
    for (let end = full; end <= data.length; end += 37) assert.equal(chunker.cut(data, 0, end, false), full);
  });
});

describe('chunkBuffer', () => {
  const data = pseudoRandom(24 * MiB, 2);
  const chunker = new Chunker(gearTable(secret(5)));

  it('is deterministic, bounded, and loses no byte', () => {
    const chunks = [...chunkBuffer(data, chunker)];
    assert.deepEqual(
      chunks.map((c) => c.length),
      lengths(data, new Chunker(gearTable(secret(5)))),
    );
    chunks.slice(0, -1).forEach((c) => {
      assert.ok(c.length >= chunker.min && c.length <= chunker.max, `chunk of ${c.length}`);
    });
    assert.ok(chunks.at(-1)!.length <= chunker.max);
    assert.ok(Buffer.concat(chunks).equals(data));
  });

  it('depends on the secret', () => {
    assert.notDeepEqual(lengths(data, chunker), lengths(data, new Chunker(gearTable(secret(6)))));
  });

  it('averages within 30% of avg on 64 MiB of random data', () => {
    const big = pseudoRandom(64 * MiB, 3);
    const mean = big.length / lengths(big, chunker).length;
    assert.ok(mean > 0.7 * MiB && mean < 1.3 * MiB, `mean chunk ${mean}`);
  });

  it('resynchronises after a few bytes are inserted at the start', () => {
    const digests = (d: Buffer) =>
      [...chunkBuffer(d, chunker)].map((c) => createHash('sha256').update(c).digest('hex'));
    const before = new Set(digests(data));
    const after = digests(Buffer.concat([Buffer.from('hello'), data]));
    const fresh = after.filter((d) => !before.has(d)).length;
    assert.ok(after.length > 10);
    assert.ok(fresh <= 2, `${fresh} of ${after.length} chunks changed`);
  });

  it('cuts all-zero data into equal chunks', () => {
    const sizes = lengths(Buffer.alloc(20 * MiB), chunker);
    assert.equal(new Set(sizes.slice(0, -1)).size, 1);
    assert.deepEqual(sizes, lengths(Buffer.alloc(20 * MiB), chunker));
  });

  it('yields nothing for empty data and one chunk for data smaller than min', () => {
    assert.deepEqual(lengths(Buffer.alloc(0), chunker), []);
    assert.deepEqual(lengths(data.subarray(0, 1000), chunker), [1000]);
  });
});

describe('chunkFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'offsite-chunker-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fromFile(
    content: Buffer,
    chunker: Chunker,
    readSize?: number,
    sizeHint?: number,
  ): Promise<Buffer[]> {
    const path = join(dir, 'f');
    await writeFile(path, content);
    const handle = await open(path, 'r');
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of chunkFile(handle, chunker, readSize, sizeHint))
        chunks.push(Buffer.from(chunk));
      return chunks;
    } finally {
      await handle.close();
    }
  }

  it('matches chunkBuffer for small params, many sizes and read sizes', async () => {
    const chunker = new Chunker(gearTable(secret(11)), SMALL);
    for (const readSize of [1, 100, 1000, 4096]) {
      for (const size of [0, 1, 60, 61, 62, 1001, 1002, readSize, 3 * readSize, 20_000]) {
        const content = pseudoRandom(size, size % 7);
        const chunks = await fromFile(content, chunker, readSize);
        assert.deepEqual(
          chunks.map((c) => c.length),
          lengths(content, chunker),
          `size ${size}, readSize ${readSize}`,
        );
        assert.ok(Buffer.concat(chunks).equals(content));
      }
    }
  });

  it('matches chunkBuffer with default params and read size', async () => {
    const chunker = new Chunker(gearTable(secret(12)));
    for (const size of [0, 100_000, 16 * MiB, 16 * MiB + 12_345]) {
      const content = pseudoRandom(size, 5);
      const chunks = await fromFile(content, chunker);
      assert.deepEqual(
        chunks.map((c) => c.length),
        lengths(content, chunker),
        `size ${size}`,
      );
      assert.ok(Buffer.concat(chunks).equals(content), `size ${size}`);
    }
  });

  it('yields views into one working buffer, reused for the next file', async () => {
    const chunker = new Chunker(gearTable(secret(13)), SMALL);
    const path = join(dir, 'views');
    for (const [size, hint] of [
      [50_000, undefined],
      [500, 500],
    ] as const) {
      await writeFile(path, pseudoRandom(size, 6));
      const handle = await open(path, 'r');
      const buffers = new Set<ArrayBufferLike>();
      try {
        for await (const chunk of chunkFile(handle, chunker, 512, hint)) buffers.add(chunk.buffer);
      } finally {
        await handle.close();
      }
      // No allocation per chunk: a caller that keeps a chunk must copy it (the packer does).
      assert.equal(buffers.size, 1, `size ${size}`);
    }
  });

  it('reads what is there when a file shrank below the size lstat gave', async () => {
    const chunker = new Chunker(gearTable(secret(15)), SMALL);
    const content = pseudoRandom(800, 9);
    assert.ok(Buffer.concat(await fromFile(content, chunker, 512, 900)).equals(content));
  });

  it('reads on when a file grew past the size lstat gave', async () => {
    const chunker = new Chunker(gearTable(secret(14)), SMALL);
    const content = pseudoRandom(20_000, 8);
    const chunks = await fromFile(content, chunker, 512, 100);
    assert.ok(Buffer.concat(chunks).equals(content));
    assert.deepEqual(
      chunks.map((c) => c.length),
      lengths(content, chunker),
    );
  });

  it('rejects a bad read size', async () => {
    await assert.rejects(
      fromFile(Buffer.alloc(10), new Chunker(gearTable(secret(1)), SMALL), 0),
      BadInputError,
    );
  });
});

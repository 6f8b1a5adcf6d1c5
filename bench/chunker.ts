// Chunker throughput: FastCDC over random data in memory (and through chunkFile from a
// cached file), against a plain one-byte-at-a-time loop and against SHA-256 on the same
// bytes, since every chunk is hashed next. Run: npx node bench/chunker.ts [MiB]
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chunker, chunkBuffer, chunkFile, DEFAULT_CHUNKER_PARAMS, gearTable } from '../src/repo/chunker.ts';

const MiB = 1024 * 1024;

/** Best of `rounds` timings, in MB/s (10^6 bytes per second, as disks are sold). */
async function rate(bytes: number, rounds: number, run: () => unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return bytes / 1e3 / best;
}

/** The specification as a single plain loop: what the unrolled Chunker.cut is measured against. */
function plainCut(gear: Int32Array, data: Uint8Array, start: number, end: number): number {
  const { min, avg, max } = DEFAULT_CHUNKER_PARAMS;
  const maskS = ~(0xffffffff >>> 22) | 0;
  const maskL = ~(0xffffffff >>> 18) | 0;
  const limit = Math.min(end - start, max);
  let h = 0;
  for (let i = start + min; i < start + limit; i++) {
    h = ((h << 1) + gear[data[i]!]!) | 0;
    if ((h & (i - start < avg ? maskS : maskL)) === 0) return i + 1 - start;
  }
  return limit;
}

export async function benchChunker(mib = 512): Promise<Record<string, number>> {
  const data = Buffer.allocUnsafeSlow(mib * MiB);
  randomFillSync(data);
  const gear = gearTable(randomBytes(32));
  const chunker = new Chunker(gear);
  let chunks = 0;
  const chunkAll = () => {
    chunks = 0;
    for (const _ of chunkBuffer(data, chunker)) chunks++;
  };
  chunkAll(); // warm-up: let V8 optimise cut() before timing it
  const chunkerMBs = await rate(data.length, 3, chunkAll);
  const gearI = new Int32Array(gear);
  const plainMBs = await rate(data.length, 3, () => {
    for (let pos = 0; pos < data.length; ) pos += plainCut(gearI, data, pos, data.length);
  });
  const sha256MBs = await rate(data.length, 3, () => createHash('sha256').update(data).digest());
  const fileMBs = await chunkFileRate(data, chunker);
  return {
    chunkerMBs,
    plainLoopMBs: plainMBs,
    sha256MBs,
    chunkerOverSha256: chunkerMBs / sha256MBs,
    chunkFileCachedMBs: fileMBs,
    chunks,
    meanChunkMiB: data.length / chunks / MiB,
  };
}

/** chunkFile from a file just written (so in the page cache): chunking plus reads and copies. */
async function chunkFileRate(data: Buffer, chunker: Chunker): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-bench-'));
  try {
    const path = join(dir, 'data');
    await writeFile(path, data);
    return await rate(data.length, 2, async () => {
      const handle = await open(path, 'r');
      try {
        for await (const _ of chunkFile(handle, chunker));
      } finally {
        await handle.close();
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const mib = Number(process.argv[2] ?? 512);
  const r = await benchChunker(mib);
  console.log(`chunker (FastCDC, ${mib} MiB random, in memory): ${r.chunkerMBs!.toFixed(0)} MB/s`);
  console.log(`  ${r.chunks} chunks, mean ${r.meanChunkMiB!.toFixed(3)} MiB`);
  console.log(`plain one-byte loop, same data:              ${r.plainLoopMBs!.toFixed(0)} MB/s`);
  console.log(`sha256, same buffer:                         ${r.sha256MBs!.toFixed(0)} MB/s`);
  console.log(`chunker / sha256:                            ${r.chunkerOverSha256!.toFixed(2)}×`);
  console.log(`chunkFile from page cache (reads + copies):  ${r.chunkFileCachedMBs!.toFixed(0)} MB/s`);
}

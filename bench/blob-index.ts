// BlobIndex: insert and lookup rates and memory per blob for random ids.
// Run: npx node --expose-gc bench/blob-index.ts [blobs]   (--expose-gc makes the heap delta exact)
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BLOB_DATA, BlobIndex } from '../src/repo/blob-index.ts';

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/** Heap plus typed-array memory after a full collection (freed ArrayBuffers are released a tick later). */
async function held(): Promise<{ bytes: number; rss: number }> {
  gc?.();
  await sleep(50);
  gc?.();
  const m = process.memoryUsage();
  return { bytes: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

function perSecond(count: number, run: () => void): number {
  const start = performance.now();
  run();
  return count / ((performance.now() - start) / 1000);
}

export async function benchBlobIndex(count = 2_000_000): Promise<Record<string, number>> {
  const idBytes = randomBytes(count * 32);
  const ids = Array.from({ length: count }, (_, i) => idBytes.subarray(i * 32, i * 32 + 32));
  const misses = Array.from({ length: 100_000 }, () => randomBytes(32));
  const before = await held();
  const index = new BlobIndex();
  const pack = index.addPack(randomBytes(32), randomBytes(32));
  const loc = {
    packIndex: pack,
    offset: 0,
    length: 1 << 20,
    rawLength: 1 << 20,
    type: BLOB_DATA,
    compressed: true,
  } as const;
  const insertsPerSec = perSecond(count, () => {
    for (const id of ids) index.add(id, loc);
  });
  const after = await held();
  let found = 0;
  const hasPerSec = perSecond(count, () => {
    for (const id of ids) if (index.has(id)) found++;
  });
  const getPerSec = perSecond(count, () => {
    for (const id of ids) if (index.get(id)) found++;
  });
  const missPerSec = perSecond(misses.length, () => {
    for (const id of misses) if (index.has(id)) found++;
  });
  if (found !== 2 * count) throw new Error(`lookups found ${found} of ${2 * count}`);
  return {
    blobs: index.size,
    insertsPerSec,
    hasPerSec,
    getPerSec,
    missPerSec,
    bytesPerBlob: index.memoryBytes() / index.size,
    heapBytesPerBlob: (after.bytes - before.bytes) / index.size,
    rssBytesPerBlob: (after.rss - before.rss) / index.size,
  };
}

if (import.meta.main) {
  const r = await benchBlobIndex(Number(process.argv[2] ?? 2_000_000));
  const m = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
  console.log(`BlobIndex, ${r.blobs} random ids`);
  console.log(`  inserts:            ${m(r.insertsPerSec!)}`);
  console.log(`  has() hits:         ${m(r.hasPerSec!)}`);
  console.log(`  get() hits:         ${m(r.getPerSec!)}`);
  console.log(`  has() misses:       ${m(r.missPerSec!)}`);
  console.log(`  memoryBytes / blob: ${r.bytesPerBlob!.toFixed(1)} B`);
  console.log(
    `  heap+arrayBuffers delta / blob: ${r.heapBytesPerBlob!.toFixed(1)} B${gc ? '' : ' (approximate: run with --expose-gc)'}`,
  );
  // RSS keeps what malloc has not returned to the OS (the arrays outgrown on the way), so it reads high.
  console.log(`  rss delta / blob:   ${r.rssBytesPerBlob!.toFixed(1)} B`);
}

// A pack worker (worker thread): compresses, seals and assembles blobs into packs, so
// that the main thread only reads, chunks and hashes. Each worker owns its own open
// packs (one per blob type) and sends finished packs back for upload. Protocol:
//   in:  { op: 'add', seq, type, id, data }  { op: 'flush', seq }
//   out: { op: 'added', seq, stored, buffer }  { op: 'pack', pack }  { op: 'flushed', seq }  { op: 'error', seq, message }
import { parentPort, workerData } from 'node:worker_threads';
import { BlobCompressor } from './compress.ts';
import { type FinishedPack, PackBuilder } from './pack.ts';
import { asBuffer } from './transfer.ts';

export interface PackWorkerConfig {
  encKey: Uint8Array;
  level: number;
  packSize: number;
  /** The largest plaintext blob expected (the chunker's maximum). */
  maxBlob: number;
}

/** Room for sealing overhead, compression expansion and the pack header. */
const BLOB_ROOM = 1 << 20;

/**
 * Pack buffers are reserved larger than glibc's largest mmap threshold (32 MiB), so each
 * is its own mapping, returned to the system when freed. At ~25 MiB, the first pack freed
 * raised the threshold to its size and every later pack came from a malloc arena,
 * which kept ~50 MiB per worker resident. Only written pages are resident either way.
 */
const ALWAYS_MAPPED = 33 << 20;

export type WorkerRequest =
  | { op: 'add'; seq: number; type: number; id: Uint8Array; data: Uint8Array }
  | { op: 'flush'; seq: number };

export type WorkerReply =
  | { op: 'added'; seq: number; stored: number; buffer: ArrayBuffer }
  | { op: 'pack'; pack: FinishedPack }
  | { op: 'flushed'; seq: number }
  | { op: 'error'; seq: number; message: string };

const port = parentPort!;
const config = workerData as PackWorkerConfig;
const encKey = Buffer.from(config.encKey);
const builders = new Map<number, PackBuilder>();
const compressor = new BlobCompressor(config.level, config.maxBlob);

function send(reply: WorkerReply): void {
  // A finished pack owns its buffer (PackBuilder.finish) and a blob's buffer goes back
  // to the packer's pool once sealed: both move without a copy.
  if (reply.op === 'pack') port.postMessage(reply, [reply.pack.bytes.buffer as ArrayBuffer]);
  else if (reply.op === 'added') port.postMessage(reply, [reply.buffer]);
  else port.postMessage(reply);
}

function finish(type: number): void {
  const builder = builders.get(type);
  if (!builder || builder.count === 0) return;
  builders.delete(type);
  send({ op: 'pack', pack: builder.finish() });
}

function add(type: number, id: Uint8Array, data: Uint8Array): number {
  let builder = builders.get(type);
  if (!builder) {
    // Room for a full pack plus the largest blob that can cross the pack size.
    builder = new PackBuilder(encKey, Math.max(config.packSize + config.maxBlob + BLOB_ROOM, ALWAYS_MAPPED));
    builders.set(type, builder);
  }
  // A view of the compressor's buffer, sealed (copied) into the pack before the next blob.
  const packed = compressor.compress(data);
  const entry = builder.add(type, asBuffer(id), packed ?? data, packed !== null, data.length);
  if (builder.size >= config.packSize) finish(type);
  return entry.length;
}

port.on('message', (msg: WorkerRequest) => {
  try {
    if (msg.op === 'add') {
      const stored = add(msg.type, msg.id, msg.data);
      send({ op: 'added', seq: msg.seq, stored, buffer: msg.data.buffer as ArrayBuffer });
    } else {
      for (const type of [...builders.keys()]) finish(type);
      send({ op: 'flushed', seq: msg.seq });
    }
  } catch (err) {
    send({ op: 'error', seq: msg.seq, message: err instanceof Error ? err.message : String(err) });
  }
});

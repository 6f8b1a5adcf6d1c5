// A restore worker (worker thread): authenticates, decompresses and checks the blobs of
// one pack run, so the main thread only reads packs and writes files. Protocol:
//   in:  { seq, salt, where, bytes, start, blobs: [{ id, type, compressed, offset, length, rawLength }] }
//   out: { seq, results: [{ plain } | { error: { code, message } }] }
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { isMarkedAsUntransferable, parentPort, workerData } from 'node:worker_threads';
import { isOffsiteError } from '../../errors/index.ts';
import { decompressSync } from '../compress.ts';
import { openBlob, packKey } from '../crypto/seal.ts';

export interface BlobWorkerConfig {
  encKey: Uint8Array;
  idKey: Uint8Array;
}

export interface RunBlob {
  id: Uint8Array;
  type: number;
  compressed: boolean;
  offset: number;
  length: number;
  rawLength: number;
}

export interface RunRequest {
  seq: number;
  salt: Uint8Array;
  where: string;
  /** The pack's bytes from offset `start`. */
  bytes: Uint8Array;
  start: number;
  blobs: RunBlob[];
}

export type RunResult = { plain: Uint8Array } | { error: { code: string; message: string } };

export interface RunReply {
  seq: number;
  results: RunResult[];
}

const port = parentPort!;
const config = workerData as BlobWorkerConfig;
const encKey = Buffer.from(config.encKey);
const idKey = createSecretKey(Buffer.from(config.idKey));

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function openOne(key: KeyObject, run: RunRequest, blob: RunBlob): Buffer {
  const id = view(blob.id);
  const at = blob.offset - run.start;
  const sealed = view(run.bytes).subarray(at, at + blob.length);
  const header = { type: blob.type, compressed: blob.compressed, id, offset: blob.offset };
  const stored = openBlob(key, header, sealed, run.where);
  const plain = blob.compressed ? decompressSync(stored, blob.rawLength, run.where) : stored;
  if (plain.length !== blob.rawLength || !createHmac('sha256', idKey).update(plain).digest().equals(id)) {
    throw Object.assign(new Error(`blob ${id.toString('hex')} in ${run.where} does not match its id`), {
      code: 'ID_MISMATCH',
    });
  }
  return plain;
}

/**
 * Plaintext that can move to the main thread without a copy: outputs of zstd and of the
 * cipher mostly have ArrayBuffers of their own (a view of zstd's slightly larger output
 * buffer moves whole). Node's shared pools are marked untransferable; a small or pooled
 * plaintext is copied.
 */
function movable(plain: Buffer): Uint8Array {
  const buffer = plain.buffer;
  const own = buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(buffer);
  if (plain.length >= 4096 && own && buffer.byteLength - plain.length < 4096) return plain;
  return new Uint8Array(plain);
}

port.on('message', (run: RunRequest) => {
  const key = packKey(encKey, view(run.salt));
  const results: RunResult[] = run.blobs.map((blob) => {
    try {
      return { plain: movable(openOne(key, run, blob)) };
    } catch (err) {
      const code = isOffsiteError(err) ? err.code : ((err as { code?: string }).code ?? 'CORRUPT_BLOB');
      return { error: { code, message: err instanceof Error ? err.message : String(err) } };
    }
  });
  const transfer = new Set(results.flatMap((r) => ('plain' in r ? [r.plain.buffer as ArrayBuffer] : [])));
  port.postMessage({ seq: run.seq, results } satisfies RunReply, [...transfer]);
});

// A restore worker (worker thread): authenticates, decompresses and checks the blobs of
// one pack run, so the main thread only reads packs and writes files. Protocol:
//   in:  { seq, salt, where, bytes, start, blobs: [{ id, type, compressed, offset, length, rawLength }] }
//   out: { seq, results: [{ plain } | { error: { code, message } }] }
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { isOffsiteError } from '../../errors/index.ts';
import type { BlobType } from '../blob-index.ts';
import { checkedPlain, unseal } from '../blob-open.ts';
import { decompressSync } from '../compress.ts';
import { packKey } from '../crypto/seal.ts';
import { asBuffer, release, transferable } from '../transfer.ts';

export interface BlobWorkerConfig {
  encKey: Uint8Array;
  idKey: Uint8Array;
}

export interface RunBlob {
  id: Uint8Array;
  type: BlobType;
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
const blobId = (data: Uint8Array) => createHmac('sha256', idKey).update(data).digest();

function openOne(key: KeyObject, run: RunRequest, blob: RunBlob): Buffer {
  const id = asBuffer(blob.id);
  const at = blob.offset - run.start;
  const sealed = asBuffer(run.bytes).subarray(at, at + blob.length);
  const stored = unseal(key, id, blob, sealed, run.where);
  if (!blob.compressed) return checkedPlain(stored, id, blob, run.where, blobId);
  const plain = decompressSync(stored, blob.rawLength, run.where);
  release(stored);
  return checkedPlain(plain, id, blob, run.where, blobId);
}

port.on('message', (run: RunRequest) => {
  const key = packKey(encKey, asBuffer(run.salt));
  const results: RunResult[] = run.blobs.map((blob) => {
    try {
      return { plain: transferable(openOne(key, run, blob)) };
    } catch (err) {
      const code = isOffsiteError(err) ? err.code : 'CORRUPT_BLOB';
      return { error: { code, message: err instanceof Error ? err.message : String(err) } };
    }
  });
  // The pack's bytes were copied out by the cipher: free them now (see release).
  release(run.bytes);
  const transfer = new Set(results.flatMap((r) => ('plain' in r ? [r.plain.buffer as ArrayBuffer] : [])));
  port.postMessage({ seq: run.seq, results } satisfies RunReply, [...transfer]);
});

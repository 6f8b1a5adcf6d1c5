// Moving bytes between threads. postMessage clones a typed array's whole ArrayBuffer
// unless that buffer is transferred, so the pipeline transfers what it can and copies
// only what it must.
import { isMarkedAsUntransferable } from 'node:worker_threads';

/** Structured clone turns Buffers into Uint8Arrays; this gives them their methods back (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** At most this many bytes of an ArrayBuffer may travel along unused when a view moves. */
const MAX_SLACK = 4096;

/**
 * Bytes whose ArrayBuffer may go in a transfer list: the view itself when its buffer is
 * (nearly) all of it and transferable — Node's shared pools are marked untransferable —
 * otherwise a copy of its own. The sender must not use `bytes` afterwards.
 */
export function transferable(bytes: Uint8Array): Uint8Array {
  const buffer = bytes.buffer;
  const own = buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(buffer);
  if (own && buffer.byteLength - bytes.byteLength < MAX_SLACK) return bytes;
  return new Uint8Array(bytes);
}

/** Below this, a buffer may share Node's allocation pool: never released early. */
const MIN_RELEASE = 64 * 1024;

/**
 * Frees a large buffer's memory now instead of at the next garbage collection, by
 * detaching its ArrayBuffer (`transfer(0)`): V8 collects external memory only once
 * ~64 MiB of it is garbage, and per-blob outputs (zstd, AES-GCM, pack reads) reached
 * that in every thread. The whole ArrayBuffer goes (never one of Node's shared pools):
 * the caller must hold the last reference to it, since every view of it becomes empty.
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached || buffer.byteLength < MIN_RELEASE) return;
  if (isMarkedAsUntransferable(buffer)) return;
  buffer.transfer(0);
}

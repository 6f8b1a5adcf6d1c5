import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { IntegrityError } from '../../errors/index.ts';
import type { BlobLocation } from '../blob-index.ts';
import type { Repository } from '../repository.ts';
import { asBuffer, transferable } from '../transfer.ts';
import { workerUrl } from '../worker-source.ts';
import type { BlobWorkerConfig, RunBlob, RunReply, RunRequest } from './blob-worker.ts';

/** A blob of a run to open: its id and where it sits. */
export interface RunEntry {
  id: Buffer;
  loc: BlobLocation;
}

/**
 * Workers for a restore: one core stays with the main thread, whose reads, writes and
 * metadata calls take more CPU than opening the blobs (AES-GCM at ~5 GB/s, zstd at ~3,
 * HMAC at ~2: about 1 s per GiB). On two cores one worker restored 1 GiB in the same
 * CPU time as two and ~60 MiB smaller (an isolate, a malloc arena, a run in flight).
 */
export function restoreWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, 4));
}

interface Pending {
  where: string;
  resolve: (results: (Buffer | IntegrityError)[]) => void;
  reject: (err: Error) => void;
}

/**
 * Worker threads that turn a run of sealed blobs into checked plaintext: authentication,
 * decompression and the id check are most of a restore's CPU, and on the main thread
 * they (and their garbage) competed with the file writes. One run per message, so the
 * messaging cost is per pack, not per blob. Workers start on first use.
 */
export class BlobOpeners {
  readonly #repo: Repository;
  #workers: { worker: Worker; busy: number; waiting: Map<number, Pending> }[] = [];
  #seq = 0;

  constructor(repo: Repository) {
    this.#repo = repo;
  }

  /** Plaintext (or the integrity error) of each blob, in order; `bytes` hold the pack from `start`. */
  open(
    packIndex: number,
    where: string,
    bytes: Buffer,
    start: number,
    run: RunEntry[],
  ): Promise<(Buffer | IntegrityError)[]> {
    const slot = this.#leastBusy();
    const seq = ++this.#seq;
    const request: RunRequest = {
      seq,
      salt: this.#repo.index.packSalt(packIndex),
      where,
      bytes: transferable(bytes),
      start,
      blobs: run.map(({ id, loc }) => runBlob(id, loc)),
    };
    slot.busy++;
    return new Promise<(Buffer | IntegrityError)[]>((resolve, reject) => {
      slot.waiting.set(seq, { where, resolve, reject });
      slot.worker.postMessage(request, [request.bytes.buffer as ArrayBuffer]);
    }).finally(() => slot.busy--);
  }

  #leastBusy() {
    if (this.#workers.length === 0) this.#start();
    return this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  #start(): void {
    const config: BlobWorkerConfig = { encKey: this.#repo.keys.encKey, idKey: this.#repo.keys.idKey };
    this.#workers = Array.from({ length: restoreWorkers() }, () => {
      const worker = new Worker(workerUrl(new URL('./blob-worker.ts', import.meta.url)), {
        workerData: config,
      });
      const waiting = new Map<number, Pending>();
      worker.on('message', (reply: RunReply) => {
        const pending = waiting.get(reply.seq);
        waiting.delete(reply.seq);
        if (!pending) return;
        pending.resolve(
          reply.results.map((r) => ('plain' in r ? asBuffer(r.plain) : integrity(r.error, pending.where))),
        );
      });
      const failAll = (err: Error) => {
        for (const pending of waiting.values()) pending.reject(err);
        waiting.clear();
      };
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`restore worker exited with code ${code}`)));
      return { worker, busy: 0, waiting };
    });
  }

  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

function runBlob(id: Buffer, loc: BlobLocation): RunBlob {
  const { type, compressed, offset, length, rawLength } = loc;
  return { id, type, compressed, offset, length, rawLength };
}

function integrity(error: { code: string; message: string }, where: string): IntegrityError {
  return new IntegrityError(error.code, error.message, { object: where });
}

import { BadInputError } from '../../errors/index.ts';
import { Semaphore } from '../../util/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

export interface LimitOptions {
  /** Operations in flight at most (a whole number ≥ 1). */
  concurrency: number;
}

/**
 * At most `concurrency` operations in flight on the inner store; the others wait, first
 * come first served. Each put, get, head and delete holds one slot until it settles.
 *
 * A listing holds one slot for its whole iteration: from the first step until it ends,
 * fails, or the consumer leaves the loop (break, return or throw inside `for await`
 * release it). Two consequences:
 * - A consumer that abandons the iterator without finishing it or calling `return()`
 *   keeps the slot forever. `for await` always cleans up; hand-driven iterators must too.
 * - Operations on the same LimitStore from inside a listing's loop need a second slot.
 *   With concurrency 1, `for await (const o of s.list(p)) await s.get(o.name)` waits
 *   forever; with concurrency N, so do N such listings running at once. List first
 *   and act afterwards, or give the nested work a store of its own.
 */
export class LimitStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  readonly #slots: Semaphore;

  constructor(inner: BlobStore, options: LimitOptions) {
    const { concurrency } = options;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new BadInputError(
        'BAD_CONCURRENCY',
        `concurrency must be a whole number ≥ 1, got ${concurrency}`,
      );
    }
    this.location = inner.location;
    this.#inner = inner;
    this.#slots = new Semaphore(concurrency);
  }

  /** Operations in flight now (listings count one each while they iterate). */
  get inFlight(): number {
    return this.#slots.used;
  }

  put(name: string, data: Uint8Array): Promise<void> {
    return this.#slots.run(() => this.#inner.put(name, data));
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.#slots.run(() => this.#inner.get(name, range));
  }

  head(name: string): Promise<ObjectInfo | null> {
    return this.#slots.run(() => this.#inner.head(name));
  }

  delete(name: string): Promise<void> {
    return this.#slots.run(() => this.#inner.delete(name));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    await this.#slots.acquire();
    try {
      yield* this.#inner.list(prefix);
    } finally {
      this.#slots.release();
    }
  }
}

import { TokenBucket, type TokenBucketOptions } from '../../util/rate.ts';
import { validateObjectName } from '../names.ts';
import { validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

/** The rate (a function of the time), clock and sleep of both directions' token buckets. */
export type ThrottleOptions = TokenBucketOptions;

/**
 * Object bytes held to a rate that may change with the time of day (work hours): uploads
 * and downloads each get their own token bucket at that rate, as links are full duplex
 * and a backup mostly uploads while a restore mostly downloads. head, list and delete
 * carry no object data and pass through.
 *
 * A put pays before it sends; a ranged get pays before it asks (its size is known); a
 * whole-object get pays after it arrives, holding its caller until the bytes are paid
 * for. Over a transfer of many objects the average is the rate either way. Put a
 * RetryStore outside this one, so every retried attempt is paid for again.
 */
export class ThrottleStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  readonly #upload: TokenBucket;
  readonly #download: TokenBucket;

  constructor(inner: BlobStore, options: ThrottleOptions) {
    this.location = inner.location;
    this.#inner = inner;
    this.#upload = new TokenBucket(options);
    this.#download = new TokenBucket(options);
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    validateObjectName(name);
    await this.#upload.take(data.byteLength);
    return await this.#inner.put(name, data);
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    validateObjectName(name);
    validateRange(name, range);
    if (range) {
      await this.#download.take(range.length);
      return await this.#inner.get(name, range);
    }
    const data = await this.#inner.get(name);
    await this.#download.take(data.length);
    return data;
  }

  head(name: string): Promise<ObjectInfo | null> {
    return this.#inner.head(name);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.#inner.list(prefix);
  }

  delete(name: string): Promise<void> {
    return this.#inner.delete(name);
  }
}

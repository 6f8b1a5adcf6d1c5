import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

/**
 * A store whose backend is loaded on first use. The Azure and AWS SDKs take ~120 ms to
 * import, and every `offsite` process imports the storage layer: openStore checks the URL
 * and the credentials at once (so mistakes surface when the store is opened) and defers
 * only the SDK. A failed load is tried again on the next call.
 */
export class LazyStore implements BlobStore {
  readonly location: string;
  readonly #load: () => Promise<BlobStore>;
  #inner: Promise<BlobStore> | undefined;

  constructor(location: string, load: () => Promise<BlobStore>) {
    this.location = location;
    this.#load = load;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    return await (await this.#store()).put(name, data);
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    return await (await this.#store()).get(name, range);
  }

  async head(name: string): Promise<ObjectInfo | null> {
    return await (await this.#store()).head(name);
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    yield* (await this.#store()).list(prefix);
  }

  async delete(name: string): Promise<void> {
    return await (await this.#store()).delete(name);
  }

  #store(): Promise<BlobStore> {
    this.#inner ??= this.#load().catch((err: unknown) => {
      this.#inner = undefined;
      throw err;
    });
    return this.#inner;
  }
}

import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../../storage/index.ts';

/** Counts what a cycle sends: the bytes of every put that reached the replica. */
export class CountingStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  bytesSent = 0;
  objectsSent = 0;
  packsSent = 0;

  constructor(inner: BlobStore) {
    this.#inner = inner;
    this.location = inner.location;
  }

  reset(): void {
    this.bytesSent = 0;
    this.objectsSent = 0;
    this.packsSent = 0;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    await this.#inner.put(name, data);
    this.bytesSent += data.byteLength;
    this.objectsSent++;
    if (name.startsWith('data/')) this.packsSent++;
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.#inner.get(name, range);
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

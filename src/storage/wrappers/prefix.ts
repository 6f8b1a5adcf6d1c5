import { BadInputError } from '../../errors/index.ts';
import { validateObjectName, validatePrefix } from '../names.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

/**
 * A view of the objects under one prefix of a store, with the prefix taken off the
 * names: the vault keeps each registered server's repository under its own prefix of a
 * region. Names are validated before the prefix is added, so "../" can never climb out.
 */
export class PrefixStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  readonly #prefix: string;

  /** `prefix` is a valid object name prefix ending with "/". */
  constructor(inner: BlobStore, prefix: string) {
    if (!prefix.endsWith('/') || validatePrefix(prefix) !== prefix) {
      throw new BadInputError('BAD_OBJECT_NAME', `the store prefix "${prefix}" must end with "/"`);
    }
    this.#inner = inner;
    this.#prefix = prefix;
    this.location = `${inner.location}/${prefix.slice(0, -1)}`;
  }

  #full(name: string): string {
    return this.#prefix + validateObjectName(name);
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    return await this.#inner.put(this.#full(name), data);
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    return await this.#inner.get(this.#full(name), range);
  }

  async head(name: string): Promise<ObjectInfo | null> {
    return await this.#inner.head(this.#full(name));
  }

  async delete(name: string): Promise<void> {
    return await this.#inner.delete(this.#full(name));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const cut = this.#prefix.length;
    for await (const entry of this.#inner.list(this.#prefix + validatePrefix(prefix))) {
      yield { name: entry.name.slice(cut), size: entry.size };
    }
  }
}

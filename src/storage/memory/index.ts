// The in-memory BlobStore: for tests and as the reference backend of the contract.
// Imports only src/errors and the storage contract helpers one folder up.
import { ConflictError, NotFoundError } from '../../errors/index.ts';
import { validateObjectName, validatePrefix } from '../names.ts';
import { checkRangeFits, validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

/**
 * Objects live in a Map. Bytes are copied on the way in and on the way out, so neither
 * the caller's buffer nor a returned buffer can change what is stored. put checks and
 * inserts in one synchronous step, so concurrent puts of one name cannot both win.
 */
export class MemoryStore implements BlobStore {
  readonly location: string;
  readonly #objects = new Map<string, Buffer>();

  constructor(location = 'memory:') {
    this.location = location;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    validateObjectName(name);
    if (this.#objects.has(name)) {
      throw new ConflictError('OBJECT_EXISTS', `${name} already exists in ${this.location}`, {
        hint: 'objects are never overwritten; delete it first if it must be replaced',
      });
    }
    this.#objects.set(name, Buffer.from(data));
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    validateObjectName(name);
    validateRange(name, range);
    const stored = this.#objects.get(name);
    if (stored === undefined) {
      throw new NotFoundError('OBJECT_NOT_FOUND', `${name} does not exist in ${this.location}`);
    }
    if (range === undefined) return Buffer.from(stored);
    checkRangeFits(name, range, stored.length);
    return Buffer.from(stored.subarray(range.offset, range.offset + range.length));
  }

  async head(name: string): Promise<ObjectInfo | null> {
    validateObjectName(name);
    const stored = this.#objects.get(name);
    return stored === undefined ? null : { size: stored.length };
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    // A snapshot, so puts and deletes during iteration cannot disturb it.
    const entries = [...this.#objects];
    for (const [name, data] of entries) {
      if (name.startsWith(prefix)) yield { name, size: data.length };
    }
  }

  async delete(name: string): Promise<void> {
    validateObjectName(name);
    this.#objects.delete(name);
  }
}

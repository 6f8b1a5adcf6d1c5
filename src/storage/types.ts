/**
 * The one storage contract. Every backend (memory, filesystem, Azure Blob, S3, the
 * vault's HTTP API) and every wrapper (retry, throttle, faults, metrics) implements it,
 * and the conformance suite in ./conformance.ts pins its semantics:
 *
 * - Names are relative, slash-separated, made of [A-Za-z0-9._-] segments; no empty, "."
 *   or ".." segment, no leading or trailing slash, at most 1024 characters and 255 per
 *   segment (see ./names.ts). Anything else is refused with BadInputError code
 *   BAD_OBJECT_NAME before any I/O; list(prefix) applies the same rules to its prefix,
 *   which may also be empty or end with "/".
 * - put(name, data) is atomic and never overwrites: a reader sees either no object or
 *   the whole object, and a crash mid-put leaves no object under that name. If the name
 *   exists, put throws ConflictError code OBJECT_EXISTS and the stored object is
 *   unchanged. Once put resolves, the object is durable.
 * - get(name, range?) returns the bytes, or the `length` bytes from `offset`. A missing
 *   object throws NotFoundError code OBJECT_NOT_FOUND; a range past the end throws
 *   BadInputError code BAD_RANGE (a range ending exactly at the end is fine), and so does
 *   a malformed one (offset or length negative or not a whole number).
 * - head(name) returns { size } or null when missing.
 * - list(prefix) yields every object whose name starts with prefix, in no promised
 *   order, each once. Objects being written (temporary files) are never listed.
 * - delete(name) is idempotent: it resolves whether or not the object existed.
 */
export interface BlobStore {
  /** Human-readable location, for messages (never includes credentials). */
  readonly location: string;
  put(name: string, data: Uint8Array): Promise<void>;
  get(name: string, range?: ByteRange): Promise<Buffer>;
  head(name: string): Promise<ObjectInfo | null>;
  list(prefix: string): AsyncIterable<ListedObject>;
  delete(name: string): Promise<void>;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ObjectInfo {
  size: number;
}

export interface ListedObject {
  name: string;
  size: number;
}

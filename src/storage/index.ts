// Storage: the BlobStore contract, its backends (memory, filesystem, the vault's HTTP API,
// Azure Blob, S3) and wrappers. Pure I/O with no knowledge of the repository format;
// imports only src/errors, src/util and, lazily from ./open.ts when a URL names them,
// the Azure and AWS SDKs (loading both costs ~120 ms that most commands do not need).
// The conformance suite (./conformance.ts) is not re-exported: it imports node:test,
// which has no place in production code; backend tests import it directly.
export { ensureDir, FileStore, type FileStoreOptions, type FsOps } from './fs/index.ts';
export { HttpBlobStore, type HttpStoreOptions, httpProtocol } from './http/index.ts';
export { MemoryStore } from './memory/index.ts';
export {
  isValidObjectName,
  MAX_NAME_LENGTH,
  MAX_SEGMENT_LENGTH,
  validateObjectName,
  validatePrefix,
} from './names.ts';
export { openStore } from './open.ts';
export { parseRegionUrl, type RegionUrl } from './region-url.ts';
export type { BlobStore, ByteRange, ListedObject, ObjectInfo } from './types.ts';
export {
  FAULT_KINDS,
  type FallbackEvent,
  type FallbackOp,
  type FallbackOptions,
  FallbackStore,
  type FaultKind,
  type FaultOp,
  type FaultOptions,
  FaultStore,
  isRetryable,
  type LimitOptions,
  LimitStore,
  PrefixStore,
  PrimaryHealth,
  type RetryOptions,
  RetryStore,
  type ThrottleOptions,
  ThrottleStore,
} from './wrappers/index.ts';

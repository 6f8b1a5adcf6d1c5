// Wrappers of the BlobStore contract: each implements BlobStore around an inner store
// and adds one concern (retry, concurrency limit, fault injection). Imports only
// src/errors, src/util and the storage contract one folder up.

export {
  type FallbackEvent,
  type FallbackOp,
  type FallbackOptions,
  FallbackStore,
  PrimaryHealth,
} from './fallback.ts';
export { FAULT_KINDS, type FaultKind, type FaultOp, type FaultOptions, FaultStore } from './faults.ts';
export { type LimitOptions, LimitStore } from './limit.ts';
export { PrefixStore } from './prefix.ts';
export { isRetryable, type RetryOptions, RetryStore } from './retry.ts';
export { type ThrottleOptions, ThrottleStore } from './throttle.ts';

// Small helpers shared by every layer: sizes, durations, concurrency, clocks, atomic
// file writes. Nothing here knows about backups; this folder imports only from src/errors.

export { BufferPool, poolClass } from './buffer-pool.ts';
export { formatBytes, parseBytes } from './bytes.ts';
export { type Clock, systemClock } from './clock.ts';
export { parseDuration } from './duration.ts';
export { ensureMode, readIfExists, writeAtomic } from './files.ts';
export { isProcessRunning } from './process.ts';
export { type RateAt, TokenBucket, type TokenBucketOptions } from './rate.ts';
export { Semaphore } from './semaphore.ts';

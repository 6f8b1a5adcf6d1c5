import { createHash } from 'node:crypto';
import {
  BadInputError,
  ConflictError,
  errnoCode,
  isOffsiteError,
  NotFoundError,
  TransientError,
} from '../../errors/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';

export interface RetryOptions {
  /** Attempts in all, the first one included (default 6). */
  attempts?: number;
  /** Cap of the first backoff; it doubles on each retry (default 100 ms). */
  baseDelayMs?: number;
  /** Cap of any one backoff (default 10 s). */
  maxDelayMs?: number;
  /** Waits between attempts (default: a timer). Tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) that scales each backoff (default Math.random). */
  random?: () => number;
  /** Measures the time spent, for the final error message (default: the system clock). */
  clock?: Clock;
}

/** Socket-level failures that a raw (unmapped) error may carry; worth another try. */
const RETRYABLE_ERRNO: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNREFUSED',
]);

/**
 * Retryable: an OffsiteError of kind transient, or a raw error whose errno code (or the
 * code of one of its causes: fetch wraps the socket error as `TypeError('fetch failed')`)
 * is a network hiccup. Every other OffsiteError is permanent, and any other raw error is
 * a bug or an unmapped condition: retrying it would only hide it.
 */
export function isRetryable(err: unknown): boolean {
  if (isOffsiteError(err)) return err.kind === 'transient';
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const code = errnoCode(current);
    if (code !== undefined && RETRYABLE_ERRNO.has(code)) return true;
    if (isOffsiteError(current)) return false;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/**
 * Retries operations that fail with a retryable error (see isRetryable), with
 * exponential backoff and full jitter: before retry n (0-based) it waits
 * `random() * min(maxDelayMs, baseDelayMs * 2^n)`. Permanent errors fail at once,
 * unchanged. When the last attempt fails it throws TransientError RETRIES_EXHAUSTED,
 * naming the attempts, the time spent and the last error (kept as `cause`).
 *
 * put: an attempt that failed with a timeout or a reset may have stored the object all
 * the same. So when a retry of put meets ConflictError OBJECT_EXISTS, the stored bytes
 * are read back and compared (SHA-256) with ours: equal means our earlier attempt
 * succeeded, and put resolves; different means someone else's object is there, and the
 * conflict is thrown. A store cannot tell "our earlier attempt landed" from "identical
 * bytes were already there", so in that one case (a retried put of bytes equal to the
 * stored ones) put resolves where the bare store would have thrown OBJECT_EXISTS. The
 * caller's goal, these bytes under this name, holds either way, and for
 * content-addressed names it is the same thing. A first attempt that conflicts is never
 * read back: it throws as the contract says.
 *
 * list: retried only while it has yielded nothing. Once objects were handed out,
 * starting over would yield them again (the contract says each once, and the consumer
 * has already acted on them), and resuming is impossible: the contract has no
 * continuation token, and remembering every name yielded costs memory in proportion to
 * the listing. So a failure mid-listing propagates as it is; the caller may run the
 * whole listing again.
 */
export class RetryStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #clock: Clock;

  constructor(inner: BlobStore, options: RetryOptions = {}) {
    const { attempts = 6, baseDelayMs = 100, maxDelayMs = 10_000 } = options;
    if (!Number.isSafeInteger(attempts) || attempts < 1) {
      throw new BadInputError('BAD_RETRY_OPTIONS', `attempts must be a whole number ≥ 1, got ${attempts}`);
    }
    for (const [what, value] of [
      ['baseDelayMs', baseDelayMs],
      ['maxDelayMs', maxDelayMs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0) {
        throw new BadInputError('BAD_RETRY_OPTIONS', `${what} must be a number of ms ≥ 0, got ${value}`);
      }
    }
    this.location = inner.location;
    this.#inner = inner;
    this.#attempts = attempts;
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
  }

  put(name: string, data: Uint8Array): Promise<void> {
    let ours: Buffer | undefined;
    return this.#run('put', name, async (attempt) => {
      try {
        await this.#inner.put(name, data);
      } catch (err) {
        if (attempt === 1 || !(err instanceof ConflictError) || err.code !== 'OBJECT_EXISTS') throw err;
        ours ??= sha256(data);
        if (!sha256(await this.#storedCopy(name, err)).equals(ours)) throw err;
      }
    });
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.#run('get', name, () => this.#inner.get(name, range));
  }

  head(name: string): Promise<ObjectInfo | null> {
    return this.#run('head', name, () => this.#inner.head(name));
  }

  delete(name: string): Promise<void> {
    return this.#run('delete', name, () => this.#inner.delete(name));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const started = this.#clock.now();
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        for await (const object of this.#inner.list(prefix)) {
          yielded = true;
          yield object;
        }
        return;
      } catch (err) {
        if (yielded || !isRetryable(err)) throw err;
        await this.#backoff('list', prefix, attempt, started, err);
      }
    }
  }

  async #run<T>(op: string, name: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    const started = this.#clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!isRetryable(err)) throw err;
        await this.#backoff(op, name, attempt, started, err);
      }
    }
  }

  /** Waits before the next attempt, or throws RETRIES_EXHAUSTED if `attempt` was the last. */
  async #backoff(op: string, name: string, attempt: number, started: number, err: unknown): Promise<void> {
    if (attempt >= this.#attempts) {
      const spent = formatDuration(this.#clock.now() - started);
      const plural = attempt === 1 ? 'attempt' : 'attempts';
      throw new TransientError(
        'RETRIES_EXHAUSTED',
        `${op} ${name === '' ? '(all)' : name} in ${this.location} failed after ${attempt} ${plural} ` +
          `over ${spent}: ${messageOf(err)}`,
        {
          cause: err,
          hint: 'the storage kept failing with temporary errors; check the network and the storage service, then run again',
        },
      );
    }
    const cap = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    await this.#sleep(this.#random() * cap);
  }

  /**
   * The bytes stored under `name`, to compare with ours after a conflicting retry. If
   * the object vanished in between (deleted by someone), the put is worth another try,
   * so that becomes a retryable error.
   */
  async #storedCopy(name: string, conflict: ConflictError): Promise<Buffer> {
    try {
      return await this.#inner.get(name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      throw new TransientError(
        'OBJECT_VANISHED',
        `${name} conflicted but then disappeared from ${this.location}`,
        {
          cause: conflict,
        },
      );
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

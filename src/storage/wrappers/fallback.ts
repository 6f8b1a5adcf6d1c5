import { NotFoundError, TransientError } from '../../errors/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { isRetryable } from './retry.ts';

export type FallbackOp = 'put' | 'get' | 'head' | 'list' | 'delete';

/**
 * What a FallbackStore reports: the primary failed and reads now go to the secondary (once
 * per outage, not per read), or the primary answered again after an outage.
 */
export type FallbackEvent =
  | { kind: 'primary-failed'; op: FallbackOp; name: string; error: unknown }
  | { kind: 'primary-back'; readsFromSecondary: number; downForMs: number };

/**
 * Whether one primary store is thought to be down. Shared by every FallbackStore over the
 * same primary (the vault builds one per request), so that once a read found it down the
 * next reads go straight to the secondary for `holdMs` instead of each waiting out the
 * primary's retries; after that one read tries the primary again.
 */
export class PrimaryHealth {
  readonly holdMs: number;
  readonly #clock: Clock;
  #downSince: number | null = null;
  #retryAt = 0;
  #readsFromSecondary = 0;

  constructor(options: { holdMs?: number; clock?: Clock } = {}) {
    this.holdMs = options.holdMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Since when the primary is thought down; null when it is thought up. */
  get downSince(): number | null {
    return this.#downSince;
  }

  shouldTryPrimary(): boolean {
    return this.#downSince === null || this.#clock.now() >= this.#retryAt;
  }

  /** Notes a failure; true when it starts an outage (the primary was thought up). */
  failed(): boolean {
    const now = this.#clock.now();
    this.#retryAt = now + this.holdMs;
    if (this.#downSince !== null) return false;
    this.#downSince = now;
    this.#readsFromSecondary = 0;
    return true;
  }

  servedBySecondary(): void {
    this.#readsFromSecondary++;
  }

  /** Notes a success; the outage it ends, if the primary was thought down. */
  succeeded(): { readsFromSecondary: number; downForMs: number } | undefined {
    if (this.#downSince === null) return undefined;
    const ended = {
      readsFromSecondary: this.#readsFromSecondary,
      downForMs: this.#clock.now() - this.#downSince,
    };
    this.#downSince = null;
    return ended;
  }
}

export interface FallbackOptions {
  /** Shared state of the primary (default: one of this store's own). */
  health?: PrimaryHealth;
  /** How messages name the stores, e.g. 'region "eu-north"' (default: their locations). */
  primaryName?: string;
  secondaryName?: string;
  onEvent?: (event: FallbackEvent) => void;
}

/**
 * Reads from `primary`; when it fails with a retryable (transient) error, the same read is
 * served by `secondary`, a copy of it kept by asynchronous replication. Any other answer of
 * the primary stands: "not found" there is not asked again elsewhere. Writes (put, delete)
 * go to the primary only, and fail with TransientError PRIMARY_UNAVAILABLE while it is
 * down: the secondary is a replica, never written by its users.
 *
 * The secondary may lag behind: while the primary is down, an object it lacks is refused
 * by get with TransientError SECONDARY_BEHIND (the object may well exist: ask again once
 * the primary is back), while head and list answer as the secondary stands. A listing the
 * primary fails in the middle of is not resumed from the secondary (the objects handed out
 * would come twice): the error propagates, and the next listing goes to the secondary.
 *
 * Messages name the stores as `primaryName` and `secondaryName` say and leave out the
 * failing store's own error (kept as `cause`): its location may be none of the reader's
 * business (the vault's regions, to an agent).
 */
export class FallbackStore implements BlobStore {
  readonly location: string;
  readonly #primary: BlobStore;
  readonly #secondary: BlobStore;
  readonly #health: PrimaryHealth;
  readonly #primaryName: string;
  readonly #secondaryName: string;
  readonly #onEvent: (event: FallbackEvent) => void;

  constructor(primary: BlobStore, secondary: BlobStore, options: FallbackOptions = {}) {
    this.location = primary.location;
    this.#primary = primary;
    this.#secondary = secondary;
    this.#health = options.health ?? new PrimaryHealth();
    this.#primaryName = options.primaryName ?? primary.location;
    this.#secondaryName = options.secondaryName ?? secondary.location;
    this.#onEvent = options.onEvent ?? (() => {});
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    await this.#write('put', name, () => this.#primary.put(name, data));
  }

  async delete(name: string): Promise<void> {
    await this.#write('delete', name, () => this.#primary.delete(name));
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    return await this.#read('get', name, (store) => store.get(name, range));
  }

  async head(name: string): Promise<ObjectInfo | null> {
    return await this.#read('head', name, (store) => store.head(name));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    if (this.#health.shouldTryPrimary()) {
      let yielded = false;
      try {
        for await (const object of this.#primary.list(prefix)) {
          yielded = true;
          yield object;
        }
        this.#succeeded();
        return;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        this.#failed('list', prefix, err);
        if (yielded) throw err;
      }
    }
    try {
      yield* this.#secondary.list(prefix);
    } catch (err) {
      throw this.#secondaryFailed('list', prefix, err);
    }
    this.#health.servedBySecondary();
  }

  async #write(op: FallbackOp, name: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      this.#failed(op, name, err);
      throw new TransientError(
        'PRIMARY_UNAVAILABLE',
        `cannot ${op} ${name}: ${this.#primaryName} is unreachable, and only it takes writes`,
        {
          cause: err,
          hint: `reads are served from ${this.#secondaryName} meanwhile; new data waits for ${this.#primaryName}: run the backup again once it is back`,
        },
      );
    }
    this.#succeeded();
  }

  async #read<T>(op: FallbackOp, name: string, read: (store: BlobStore) => Promise<T>): Promise<T> {
    if (this.#health.shouldTryPrimary()) {
      try {
        const result = await read(this.#primary);
        this.#succeeded();
        return result;
      } catch (err) {
        if (!isRetryable(err)) throw err;
        this.#failed(op, name, err);
      }
    }
    let result: T;
    try {
      result = await read(this.#secondary);
    } catch (err) {
      throw this.#secondaryFailed(op, name, err);
    }
    this.#health.servedBySecondary();
    return result;
  }

  #secondaryFailed(op: FallbackOp, name: string, err: unknown): unknown {
    if (err instanceof NotFoundError && err.code === 'OBJECT_NOT_FOUND') {
      return new TransientError(
        'SECONDARY_BEHIND',
        `${name} is not in ${this.#secondaryName} yet, and ${this.#primaryName} is unreachable`,
        {
          cause: err,
          hint: `replication had not copied it when ${this.#primaryName} failed: try again once it is back`,
        },
      );
    }
    if (!isRetryable(err)) return err;
    return new TransientError(
      'STORES_UNAVAILABLE',
      `${op} ${name}: ${this.#primaryName} is unreachable and ${this.#secondaryName} failed too`,
      { cause: err, hint: 'check the network and both storage services, then try again' },
    );
  }

  #failed(op: FallbackOp, name: string, error: unknown): void {
    if (this.#health.failed()) this.#onEvent({ kind: 'primary-failed', op, name, error });
  }

  #succeeded(): void {
    const ended = this.#health.succeeded();
    if (ended) this.#onEvent({ kind: 'primary-back', ...ended });
  }
}

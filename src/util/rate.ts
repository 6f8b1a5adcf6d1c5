import { setTimeout as timer } from 'node:timers/promises';
import { BadInputError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';

/** Bytes per second allowed at an instant (ms since the epoch); Infinity means no limit. */
export type RateAt = (now: number) => number;

export interface TokenBucketOptions {
  /** The rate in force at each instant: a schedule may change it while transfers run. */
  rate: RateAt;
  clock?: Clock;
  /** Waits this many ms (default: a timer). Tests pass one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Unused credit is kept up to this many seconds of the current rate (default 0.5). */
  burstSeconds?: number;
  /** Longest single wait, so a change of rate takes effect within it (default 100 ms). */
  sliceMs?: number;
}

const defaultSleep = (ms: number): Promise<void> => timer(ms).then(() => undefined);

/**
 * A token bucket measured in bytes, whose rate is a function of the time. `take(n)` pays
 * for n bytes: the bucket may go into debt by a whole object (an object can be larger
 * than any sensible burst), and the caller waits until the debt is paid off at the rate
 * in force — re-read every `sliceMs`, so a transfer that crosses a schedule boundary
 * finishes at the new rate. Takers are served one after another, first come first
 * served, so concurrent transfers share the rate instead of each getting all of it.
 *
 * The bucket starts empty: a job gets no free burst at its start, so the average rate
 * measured over a transfer is the configured one. Credit saved while idle is capped at
 * `burstSeconds` of the current rate.
 */
export class TokenBucket {
  readonly #rate: RateAt;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #burstSeconds: number;
  readonly #sliceMs: number;
  #tokens = 0;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: TokenBucketOptions) {
    const { burstSeconds = 0.5, sliceMs = 100 } = options;
    if (!(Number.isFinite(burstSeconds) && burstSeconds >= 0) || !(Number.isFinite(sliceMs) && sliceMs > 0)) {
      throw new BadInputError(
        'BAD_RATE_OPTIONS',
        `burstSeconds must be ≥ 0 and sliceMs > 0, got ${burstSeconds} and ${sliceMs}`,
      );
    }
    this.#rate = options.rate;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#burstSeconds = burstSeconds;
    this.#sliceMs = sliceMs;
    this.#last = this.#clock.now();
  }

  /** Resolves when `bytes` may be transferred (at once when the rate is unlimited). */
  take(bytes: number): Promise<void> {
    if (!Number.isFinite(bytes) || bytes < 0) {
      return Promise.reject(new BadInputError('BAD_BYTES', `cannot take ${bytes} bytes`));
    }
    const turn = this.#queue.then(() => this.#pay(bytes));
    this.#queue = turn.catch(() => {});
    return turn;
  }

  async #pay(bytes: number): Promise<void> {
    this.#refill();
    this.#tokens -= bytes;
    while (this.#tokens < 0) {
      const rate = this.#currentRate(this.#clock.now());
      if (rate === Number.POSITIVE_INFINITY) {
        this.#tokens = 0;
        return;
      }
      const needMs = Math.ceil((-this.#tokens / rate) * 1000);
      await this.#sleep(Math.max(1, Math.min(this.#sliceMs, needMs)));
      this.#refill();
    }
  }

  /** Credit for the time since the last refill, at the rate in force at its start. */
  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    const rate = this.#currentRate(this.#last);
    this.#last = Math.max(this.#last, now);
    if (rate === Number.POSITIVE_INFINITY) {
      this.#tokens = Math.max(this.#tokens, 0);
      return;
    }
    this.#tokens = Math.min(rate * this.#burstSeconds, this.#tokens + (rate * elapsed) / 1000);
  }

  #currentRate(at: number): number {
    const rate = this.#rate(at);
    if (!(rate > 0)) throw new BadInputError('BAD_RATE', `a rate must be more than 0 bytes/s, got ${rate}`);
    return rate;
  }
}

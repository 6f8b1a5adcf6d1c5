import { OffsiteError } from '../errors/index.ts';

// Failed sign-ins and registrations are limited, so a password or a credentials secret
// cannot be guessed online: past `maxFailures` failures within `windowMs` for one key
// (the caller's address, or the user name tried), that key is refused until the oldest
// failure leaves the window. Kept per server instance on purpose: behind N instances the
// allowance is N times larger, still bounded, and no catalog write is spent on attackers.

export class RateLimitedError extends OffsiteError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('transient', 'RATE_LIMITED', 'too many failed attempts; wait before trying again', {
      hint: `try again in ${retryAfterSeconds} s`,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface LimitOptions {
  maxFailures: number;
  windowMs: number;
  /** Keys tracked at most; the oldest are forgotten first (bounded memory under attack). */
  maxKeys?: number;
}

export class FailureLimiter {
  readonly #options: Required<LimitOptions>;
  readonly #failures = new Map<string, number[]>();

  constructor(options: LimitOptions) {
    this.#options = { maxKeys: 10_000, ...options };
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#options.windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  /** Throws RateLimitedError when any of the keys has used up its failures. */
  check(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const times = this.#recent(key, now);
      if (times.length >= this.#options.maxFailures) {
        throw new RateLimitedError(Math.max(1, Math.ceil((times[0]! + this.#options.windowMs - now) / 1000)));
      }
    }
  }

  fail(keys: readonly string[], now: number): void {
    for (const key of keys) {
      const times = this.#recent(key, now);
      times.push(now);
      this.#failures.delete(key);
      this.#failures.set(key, times);
      if (this.#failures.size > this.#options.maxKeys) {
        this.#failures.delete(this.#failures.keys().next().value!);
      }
    }
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }

  /** Runs `attempt` under the limit: an AuthError from it counts as a failure. */
  async guard<T>(keys: readonly string[], now: number, attempt: () => Promise<T>): Promise<T> {
    this.check(keys, now);
    try {
      const result = await attempt();
      this.succeed(keys);
      return result;
    } catch (err) {
      if (err instanceof OffsiteError && err.kind === 'auth') this.fail(keys, now);
      throw err;
    }
  }
}

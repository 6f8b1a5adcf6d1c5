import { TransientError } from '../../errors/index.ts';

// How often one agent may upload a probe object, per server instance: a probe is a few
// megabytes into a region that may bill for them, so a looping agent must not turn it
// into a load generator.

export class ProbeWindow {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #uses = new Map<string, number[]>();

  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Counts one use by `who`; PROBE_RATE_LIMITED (503) past the limit. */
  take(who: string, now: number): void {
    const recent = (this.#uses.get(who) ?? []).filter((t) => t > now - this.#windowMs);
    if (recent.length >= this.#max) {
      const wait = Math.ceil((recent[0]! + this.#windowMs - now) / 1000);
      throw new TransientError(
        'PROBE_RATE_LIMITED',
        `too many region probes from this server (${this.#max} per ${this.#windowMs / 60_000} min)`,
        {
          hint: `probe again in ${wait} s`,
        },
      );
    }
    recent.push(now);
    this.#uses.set(who, recent);
  }
}

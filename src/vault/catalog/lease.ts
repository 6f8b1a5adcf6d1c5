import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../errors/index.ts';
import type { Catalog, LeaseRow } from './types.ts';

// A catalog lease (./lease-types.ts) as the service holds it: taken (or waited for),
// renewed in the background while the work runs, confirmed before a step that must not
// happen twice, given back at the end. Leases are judged by the clocks of the instances
// that take them, so those clocks must agree to well within a lease's length (NTP).

export const DEFAULT_LEASE_MS = 60_000;
/** The longest pause between two tries while waiting for a lease someone else has. */
const MAX_POLL_MS = 500;

export interface LeaseClaim {
  catalog: Catalog;
  name: string;
  holder: string;
  now: () => number;
  /** How long each take or renewal holds the lease; default DEFAULT_LEASE_MS. */
  ttlMs?: number;
}

/** What a run finds out about its lease while it renews it in the background. */
export interface LeaseEvents {
  /** Another holder has it now (it ran out before a renewal). */
  lost?: (now: LeaseRow) => void;
  /** A renewal failed (the catalog unreachable, say); the next one tries again. */
  failed?: (err: unknown) => void;
}

function leaseLost(lease: LeaseRow, mine: string): TransientError {
  return new TransientError(
    'LEASE_LOST',
    `the lease ${lease.name} of ${mine} ran out and is now held elsewhere`,
    {
      hint: 'the work stopped so that two instances never do it at once; it runs again at its next turn',
    },
  );
}

export class HeldLease {
  readonly #claim: LeaseClaim;
  readonly #ttlMs: number;
  #lostTo: LeaseRow | undefined;
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<unknown> | undefined;

  private constructor(claim: LeaseClaim) {
    this.#claim = claim;
    this.#ttlMs = claim.ttlMs ?? DEFAULT_LEASE_MS;
  }

  /** One try: the lease, held, or the row of whoever else has it. */
  static async take(claim: LeaseClaim): Promise<HeldLease | LeaseRow> {
    const lease = new HeldLease(claim);
    const row = await lease.renew();
    return lease.lost ? row : lease;
  }

  /** Tries until it gets the lease; LEASE_BUSY (transient) when waitMs passes first. */
  static async waitFor(claim: LeaseClaim, waitMs: number): Promise<HeldLease> {
    const deadline = performance.now() + waitMs;
    for (let pause = 25; ; pause = Math.min(MAX_POLL_MS, pause * 2)) {
      const got = await HeldLease.take(claim);
      if (got instanceof HeldLease) return got;
      if (performance.now() + pause > deadline) {
        throw new TransientError('LEASE_BUSY', `${claim.name} is held by ${got.holder} for now`, {
          hint: 'other work on the same data is running; try again in a minute',
        });
      }
      await sleep(pause);
    }
  }

  get name(): string {
    return this.#claim.name;
  }

  /** True once a renewal found the lease with another holder; it never comes back. */
  get lost(): boolean {
    return this.#lostTo !== undefined;
  }

  /** Takes the lease again for a full term; returns the lease as it stands (see `lost`). */
  async renew(): Promise<LeaseRow> {
    const { catalog, name, holder, now } = this.#claim;
    if (this.#lostTo) return this.#lostTo;
    const at = now();
    const row = await catalog.takeLease(name, holder, at, at + this.#ttlMs);
    if (row.holder !== holder) {
      this.#lostTo = row;
      this.stopRenewing();
    }
    return row;
  }

  /** Renews now; LEASE_LOST (transient) when the lease is no longer this holder's. */
  async confirm(): Promise<void> {
    const row = await this.renew();
    if (this.lost) throw leaseLost(row, this.#claim.holder);
  }

  /** Renews every third of the term (real time), one renewal at a time, until stopped or lost. */
  keepRenewed(events: LeaseEvents = {}): void {
    if (this.#timer || this.lost) return;
    this.#timer = setInterval(() => {
      if (this.#renewing) return;
      this.#renewing = this.renew()
        .then(
          (row) => {
            if (this.lost) events.lost?.(row);
          },
          events.failed ?? (() => {}),
        )
        .finally(() => {
          this.#renewing = undefined;
        });
    }, this.#ttlMs / 3);
    this.#timer.unref();
  }

  stopRenewing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops renewing and gives the lease back, so another instance may take it at once. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.#renewing;
    if (this.lost) return;
    const { catalog, name, holder, now } = this.#claim;
    await catalog.releaseLease(name, holder, now());
  }
}

/** Runs fn while holding the lease (waiting up to waitMs for it), renewed throughout; then gives it back. */
export async function withLease<T>(
  claim: LeaseClaim,
  waitMs: number,
  fn: (lease: HeldLease) => Promise<T>,
): Promise<T> {
  const lease = await HeldLease.waitFor(claim, waitMs);
  lease.keepRenewed();
  try {
    return await fn(lease);
  } finally {
    // A lease that cannot be given back runs out by itself.
    await lease.release().catch(() => {});
  }
}

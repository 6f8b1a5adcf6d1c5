import { BadInputError } from '../../errors/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import { type ReplicationHealth, senderHealth } from './health.ts';
import { APP_CONSISTENT, type Consistency, CRASH_CONSISTENT } from './protocol.ts';
import type { CycleResult, Replicator } from './sender.ts';

// When a workload replicates: every `frequency` from the start of the previous attempt
// (a cycle longer than the interval is followed at once by the next; cycles never
// overlap), application-consistent when the last such point is `appConsistentEveryHours`
// old (or there is none yet). A failed cycle is tried again at the next interval.

export const FREQUENCIES = { '30s': 30_000, '5m': 300_000, '15m': 900_000 } as const;
export type Frequency = keyof typeof FREQUENCIES;

export interface SchedulerOptions {
  replicator: Pick<Replicator, 'replicate' | 'state' | 'running' | 'workload'>;
  frequency: Frequency;
  /** 0 or absent: never application-consistent. */
  appConsistentEveryHours?: number;
  clock?: Clock;
  /** Each cycle's outcome, for logs and heartbeats. */
  onCycle?: (outcome: { ok: true; result: CycleResult } | { ok: false; error: unknown }) => void;
}

export function parseFrequency(text: string): Frequency {
  if (text in FREQUENCIES) return text as Frequency;
  throw new BadInputError('BAD_FREQUENCY', `"${text.slice(0, 20)}" is not a replication frequency`, {
    hint: 'use 30s, 5m or 15m',
  });
}

export class ReplicationScheduler {
  readonly #options: SchedulerOptions;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = FREQUENCIES[parseFrequency(options.frequency)];
    const every = options.appConsistentEveryHours ?? 0;
    if (!Number.isFinite(every) || every < 0 || every > 24 * 7) {
      throw new BadInputError(
        'BAD_CONSISTENCY_INTERVAL',
        `appConsistentEveryHours must be from 0 to 168, got ${every}`,
      );
    }
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** When the next cycle is due (ms since the epoch): now when none was ever tried. */
  async dueAt(): Promise<number> {
    const { lastAttemptAt } = await this.#options.replicator.state();
    return lastAttemptAt === null ? this.#clock.now() : Date.parse(lastAttemptAt) + this.#intervalMs;
  }

  async consistencyDue(): Promise<Consistency> {
    const hours = this.#options.appConsistentEveryHours ?? 0;
    if (hours <= 0) return CRASH_CONSISTENT;
    const { lastAppConsistent } = await this.#options.replicator.state();
    if (lastAppConsistent === null) return APP_CONSISTENT;
    const age = this.#clock.now() - Date.parse(lastAppConsistent.time);
    return age >= hours * 3_600_000 ? APP_CONSISTENT : CRASH_CONSISTENT;
  }

  /** Runs a cycle when one is due; resolves with its result, or undefined when none was due. */
  async runDue(): Promise<CycleResult | undefined> {
    if (this.#options.replicator.running || this.#clock.now() < (await this.dueAt())) return undefined;
    try {
      const result = await this.#options.replicator.replicate(await this.consistencyDue());
      this.#options.onCycle?.({ ok: true, result });
      return result;
    } catch (error) {
      this.#options.onCycle?.({ ok: false, error });
      return undefined;
    }
  }

  async health(): Promise<ReplicationHealth> {
    const { replicator } = this.#options;
    return senderHealth(replicator.workload, await replicator.state(), {
      now: this.#clock.now(),
      frequencyMs: this.#intervalMs,
      running: replicator.running,
    });
  }

  /** Runs cycles on time until stop(); timers do not keep the process alive. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    await this.runDue();
    if (this.#stopped) return;
    const wait = Math.max(1000, Math.min((await this.dueAt()) - this.#clock.now(), this.#intervalMs));
    this.#timer = setTimeout(() => void this.#loop(), wait);
    this.#timer.unref();
  }
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_LEASE_MS, HeldLease, type LeaseRow } from '../vault/catalog/index.ts';
import { takeOverFromDeadPredecessor } from './predecessor.ts';
import type { Logger } from './server.ts';
import type { Services } from './types.ts';

// Periodic vault-side work (retention, garbage collection, usage history, alert checks,
// webhook delivery). Each task runs on its own timer, never twice at once, and a failure
// is logged and retried at the next tick: background work must never stop the server.
//
// Several instances may share one catalog, so a task runs only on the instance that holds
// its lease in the catalog (`task:<name>`). A tick takes the lease or renews it; with
// timers on, the holder also renews its leases every third of their term between ticks,
// so it keeps them while it lives and the others skip the task: one run per cycle in all.
// When the holder dies its leases run out and the next instance to tick takes over; a
// stopping instance gives its leases back at once.

/** What a task may check while it runs: that its lease is still this instance's. */
export interface TaskLease {
  /** Renews the lease; LEASE_LOST (transient) when another instance has it now. */
  confirm(): Promise<void>;
}

export interface BackgroundTask {
  name: string;
  everyMs: number;
  run(services: Services, lease: TaskLease): Promise<void>;
}

export interface TaskRun {
  /** Whether this instance ran the task (it held the lease). */
  ran: boolean;
  /** Who holds the task's lease; null when the catalog could not be asked. */
  holder: string | null;
}

export interface Background {
  /** This instance's name as a lease holder. */
  readonly holder: string;
  /**
   * Runs one task now if this instance holds or can take its lease (tests, admin calls);
   * waits if it is running here. Resolves without running when another instance has it.
   */
  runNow(name: string): Promise<TaskRun>;
  /** Stops the timers, waits for running tasks, gives the leases back. */
  stop(): Promise<void>;
}

export interface BackgroundOptions {
  /** false: nothing runs by itself and held leases are renewed only while a task runs. */
  timers: boolean;
  /** The term of a task lease; default 60 s. */
  leaseMs?: number;
  /** Default: host name, process id and a random part. */
  holder?: string;
  /**
   * A file in the data folder naming this instance as a holder: the leases of the one it
   * names from before are released at start when that process is dead (predecessor.ts).
   */
  predecessorFile?: string;
}

export function taskLeaseName(task: string): string {
  return `task:${task}`;
}

/** A holder name unique to this start of this process, and readable in the catalog. */
export function instanceHolder(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export function startBackground(
  tasks: readonly BackgroundTask[],
  services: Services,
  log: Logger,
  options: BackgroundOptions,
): Background {
  const holder = options.holder ?? instanceHolder();
  const note = (msg: string, fields: Record<string, unknown>) =>
    log({ time: new Date().toISOString(), msg, holder, ...fields });
  const leases = new TaskLeases(services, holder, options.timers, options.leaseMs ?? DEFAULT_LEASE_MS, note);
  const running = new Map<string, Promise<TaskRun>>();
  const timers: NodeJS.Timeout[] = [];
  const ready = options.predecessorFile
    ? takeOverFromDeadPredecessor(options.predecessorFile, holder, services, note).catch((err: unknown) => {
        note('predecessor check failed', { level: 'warn', error: errorText(err) });
      })
    : Promise.resolve();
  const runOnce = (task: BackgroundTask): Promise<TaskRun> => {
    const current = running.get(task.name);
    if (current) return current;
    const done = ready
      .then(() => runWithLease(task, services, leases, note))
      .finally(() => running.delete(task.name));
    running.set(task.name, done);
    return done;
  };
  for (const task of options.timers ? tasks : []) {
    const timer = setInterval(() => void runOnce(task), task.everyMs);
    timer.unref();
    timers.push(timer);
  }
  return {
    holder,
    async runNow(name) {
      const task = tasks.find((t) => t.name === name);
      if (!task) throw new Error(`no background task ${name}`);
      await running.get(name);
      return runOnce(task);
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await ready;
      await Promise.all(running.values());
      await leases.releaseAll();
    },
  };
}

type Note = (msg: string, fields: Record<string, unknown>) => void;

async function runWithLease(
  task: BackgroundTask,
  services: Services,
  leases: TaskLeases,
  note: Note,
): Promise<TaskRun> {
  let lease: HeldLease | LeaseRow;
  try {
    lease = await leases.take(task.name);
  } catch (err) {
    note('background lease failed', { level: 'error', task: task.name, error: errorText(err) });
    return { ran: false, holder: null };
  }
  if (!(lease instanceof HeldLease)) return { ran: false, holder: lease.holder };
  const started = Date.now();
  leases.renewWhileRunning(task.name, lease, true);
  try {
    await task.run(services, lease);
  } catch (err) {
    note('background task failed', { level: 'error', task: task.name, error: errorText(err) });
  } finally {
    leases.renewWhileRunning(task.name, lease, false);
    note('background task', { task: task.name, ms: Date.now() - started });
  }
  return { ran: true, holder: leases.holder };
}

/** The task leases this instance holds, by task name. */
class TaskLeases {
  readonly holder: string;
  readonly #services: Services;
  readonly #timers: boolean;
  readonly #ttlMs: number;
  readonly #note: Note;
  readonly #held = new Map<string, HeldLease>();

  constructor(services: Services, holder: string, timers: boolean, ttlMs: number, note: Note) {
    this.#services = services;
    this.holder = holder;
    this.#timers = timers;
    this.#ttlMs = ttlMs;
    this.#note = note;
  }

  /** The task's lease, renewed or newly taken; or the row of the instance that has it. */
  async take(task: string): Promise<HeldLease | LeaseRow> {
    const known = this.#held.get(task);
    if (known) {
      const row = await known.renew();
      if (!known.lost) return known;
      this.#lost(task, row);
      return row;
    }
    const got = await HeldLease.take({
      catalog: this.#services.catalog,
      name: taskLeaseName(task),
      holder: this.holder,
      now: this.#services.now,
      ttlMs: this.#ttlMs,
    });
    if (!(got instanceof HeldLease)) return got;
    this.#held.set(task, got);
    this.#note('background lease taken', { task });
    // With timers on the holder keeps its leases between ticks; see the file comment.
    if (this.#timers) got.keepRenewed(this.#events(task));
    return got;
  }

  /** Without timers a lease is renewed only while its task runs (a long run keeps it). */
  renewWhileRunning(task: string, lease: HeldLease, running: boolean): void {
    if (this.#timers) return;
    if (running) lease.keepRenewed(this.#events(task));
    else lease.stopRenewing();
  }

  async releaseAll(): Promise<void> {
    const held = [...this.#held];
    this.#held.clear();
    for (const [task, lease] of held) {
      await lease.release().catch((err: unknown) => {
        this.#note('background lease not released', { level: 'error', task, error: errorText(err) });
      });
    }
  }

  #events(task: string) {
    return {
      lost: (row: LeaseRow) => this.#lost(task, row),
      failed: (err: unknown) =>
        this.#note('background lease renewal failed', { level: 'error', task, error: errorText(err) }),
    };
  }

  #lost(task: string, row: LeaseRow): void {
    if (!this.#held.has(task)) return;
    this.#held.delete(task);
    this.#note('background lease lost', { level: 'warn', task, to: row.holder });
  }
}

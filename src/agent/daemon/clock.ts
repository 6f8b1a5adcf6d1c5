// The daemon's sense of time, injected: `now` decides which scheduled run is due, and
// `sleep` waits for it. The system clock sleeps for real (and wakes early when the
// daemon is asked to stop); tests use a clock that jumps instead, or the system clock
// shifted by an offset to stand just before a daylight-saving change.

export interface DaemonClock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** setTimeout's limit; longer sleeps end early and the daemon simply plans again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The system clock, shifted by `offsetMs` (0 in production). */
export function systemClock(offsetMs = 0): DaemonClock {
  return { now: () => Date.now() + offsetMs, sleep: realSleep };
}

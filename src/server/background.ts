import type { Logger } from './server.ts';
import type { Services } from './types.ts';

// Periodic vault-side work (retention, garbage collection, usage history, alert checks,
// webhook delivery). Each task runs on its own timer, never twice at once, and a failure
// is logged and retried at the next tick: background work must never stop the server.

export interface BackgroundTask {
  name: string;
  everyMs: number;
  run(services: Services): Promise<void>;
}

export interface Background {
  /** Runs one task now (tests, and `POST .../run` style admin calls); waits if it is running. */
  runNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** With `timers: false` nothing runs by itself; runNow still works (tests). */
export function startBackground(
  tasks: readonly BackgroundTask[],
  services: Services,
  log: Logger,
  options: { timers: boolean },
): Background {
  const running = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  const runOnce = (task: BackgroundTask): Promise<void> => {
    const current = running.get(task.name);
    if (current) return current;
    const started = Date.now();
    const done = task
      .run(services)
      .catch((err: unknown) => {
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log({
          time: new Date().toISOString(),
          msg: 'background task failed',
          level: 'error',
          task: task.name,
          error,
        });
      })
      .finally(() => {
        running.delete(task.name);
        log({
          time: new Date().toISOString(),
          msg: 'background task',
          task: task.name,
          ms: Date.now() - started,
        });
      });
    running.set(task.name, done);
    return done;
  };
  for (const task of options.timers ? tasks : []) {
    const timer = setInterval(() => void runOnce(task), task.everyMs);
    timer.unref();
    timers.push(timer);
  }
  return {
    async runNow(name) {
      const task = tasks.find((t) => t.name === name);
      if (!task) throw new Error(`no background task ${name}`);
      await (running.get(name) ?? Promise.resolve());
      await runOnce(task);
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}

// The daemon's log: one JSON object per line and per event, on stderr (journald keeps
// it under systemd). Fields are names, times, counts, ids and error codes and messages;
// never a passphrase, key or token (errors in Offsite never carry secrets).

export type Level = 'info' | 'warn' | 'error';

export interface DaemonEvent {
  time: string;
  level: Level;
  event: string;
  [field: string]: unknown;
}

export type DaemonLog = (event: DaemonEvent) => void;

export type Logger = (level: Level, event: string, fields?: Record<string, unknown>) => void;

export function logger(sink: DaemonLog, now: () => number): Logger {
  return (level, event, fields = {}) =>
    sink({ time: new Date(now()).toISOString(), level, event, ...fields });
}

/** Writes each event as one line to a stream (stderr by default). */
export function jsonLines(write: (line: string) => void = (l) => process.stderr.write(l)): DaemonLog {
  return (event) => write(`${JSON.stringify(event)}\n`);
}

/** An error as log fields: its stable code when it has one, and its message. */
export function errorFields(err: unknown): { code?: string; error: string } {
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
      ? err.code
      : undefined;
  return { ...(code ? { code } : {}), error: err instanceof Error ? err.message : String(err) };
}

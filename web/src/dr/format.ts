// Times as the disaster recovery pages show them: relative to the server's clock (its
// answer's `at`), so a browser with a wrong clock still reads "12 s ago" right.

/** 42 s, 3 min 5 s, 2 h 10 min, 3 days. */
export function span(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} days`;
}

export function secondsBetween(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/** "12 s ago" measured at `at`; "never" without a time. */
export function agoAt(iso: string | null, at: string): string {
  if (!iso) return 'never';
  return `${span(Math.max(0, secondsBetween(iso, at)))} ago`;
}

const UNIT = { s: 1, m: 60, h: 3600 } as const;

/** A replication frequency like 30s, 15m, 1h in seconds; null when not of that form. */
export function frequencySeconds(frequency: string | null): number | null {
  const m = frequency ? /^(\d+)(s|m|h)$/.exec(frequency) : null;
  return m ? Number(m[1]) * UNIT[m[2] as keyof typeof UNIT] : null;
}

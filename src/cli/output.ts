import { formatBytes } from '../util/index.ts';

/** Where commands print: results to stdout, progress and diagnostics to stderr. */
export interface Output {
  json: boolean;
  quiet: boolean;
  /** A human line on stdout (suppressed in --json mode). */
  line(text?: string): void;
  /** A machine-readable result on stdout (only in --json mode). */
  data(value: unknown): void;
  /** A warning or note on stderr. */
  note(text: string): void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

export function makeOutput(json: boolean, quiet: boolean): Output {
  return {
    json,
    quiet,
    line: (text = '') => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    data: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
    note: (text) => {
      if (!quiet) process.stderr.write(`${text}\n`);
    },
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatRate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes((bytes * 1000) / ms)}/s` : '-';
}

export { formatBytes };

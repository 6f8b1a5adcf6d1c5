// Latency samples of the load bench: grouped by route, summarised as percentiles.

/** A request the agent made: its route group and how long until the answer's headers came. */
export type Samples = Record<string, number[]>;

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The route group of a request: method and path with ids folded, and object names cut
 * to their folder (`PUT objects/data`, `GET objects/index`, `GET objects?list`), so the
 * number of groups stays small whatever the names.
 */
export function routeGroup(method: string, rawPath: string): string {
  const q = rawPath.indexOf('?');
  const path = q < 0 ? rawPath : rawPath.slice(0, q);
  const objects = /\/objects(?:\/([^/]+))?/.exec(path);
  if (objects) return `${method} objects${objects[1] ? `/${objects[1]}` : q >= 0 ? '?list' : ''}`;
  const folded = path
    .split('/')
    .map((s) => (HEX64.test(s) || UUID.test(s) || /^\d+$/.test(s) ? ':id' : s))
    .join('/');
  return `${method} ${folded}`;
}

export function addSample(samples: Samples, group: string, ms: number): void {
  const list = samples[group];
  if (list) list.push(ms);
  else samples[group] = [ms];
}

export function mergeSamples(into: Samples, from: Samples): void {
  for (const [group, values] of Object.entries(from)) for (const v of values) addSample(into, group, v);
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles in ms, rounded to 0.1 ms. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

export function latencyTable(samples: Samples): Record<string, Percentiles> {
  const all = Object.values(samples).flat();
  const table: Record<string, Percentiles> = {};
  for (const group of Object.keys(samples).sort()) table[group] = percentiles(samples[group]!);
  table['(all requests)'] = percentiles(all);
  return table;
}

export function formatTable(table: Record<string, Percentiles>): string {
  const width = Math.max(...Object.keys(table).map((k) => k.length), 10);
  const head = `${'route group'.padEnd(width)}  ${['count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(8)).join(' ')}`;
  const rows = Object.entries(table).map(
    ([group, p]) =>
      `${group.padEnd(width)}  ${[p.count, p.p50, p.p95, p.p99, p.max].map((n) => String(n).padStart(8)).join(' ')}`,
  );
  return [head, ...rows].join('\n');
}

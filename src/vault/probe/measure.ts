import { createHash, randomBytes } from 'node:crypto';
import { IntegrityError, isOffsiteError } from '../../errors/index.ts';

// A region probe as the agent runs it, over any transport (the agent's HTTPS client in
// production): latency is the median of several small round trips through the vault to
// the region; throughput is one bounded test object uploaded, downloaded (checked) and
// deleted at once. Nothing here reads a clock but the one it is given.

export const MAX_PROBE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_PROBE_BYTES = MAX_PROBE_BYTES;
export const PINGS = 5;

/** What the vault offers an agent: its regions, without their URLs. */
export interface OfferedRegion {
  name: string;
  /** file, azure or s3. */
  kind: string;
  /** This agent's vault lives there (primary) or is copied there (secondary). */
  role: 'primary' | 'secondary' | null;
}

export interface ProbeTransport {
  ping(region: string): Promise<void>;
  put(region: string, id: string, bytes: Uint8Array): Promise<void>;
  get(region: string, id: string): Promise<Uint8Array>;
  delete(region: string, id: string): Promise<void>;
}

export interface RegionProbe {
  region: string;
  kind: string;
  latencyMs: number | null;
  uploadBytesPerSecond: number | null;
  downloadBytesPerSecond: number | null;
  bytes: number;
  /** The error code when the region could not be probed. */
  error: string | null;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const perSecond = (bytes: number, ms: number) => Math.round((bytes * 1000) / Math.max(ms, 0.001));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function timed(now: () => number, fn: () => Promise<unknown>): Promise<number> {
  const started = now();
  await fn();
  return now() - started;
}

async function measure(t: ProbeTransport, region: string, bytes: number, now: () => number) {
  const pings: number[] = [];
  for (let i = 0; i < PINGS; i++) pings.push(await timed(now, () => t.ping(region)));
  const id = randomBytes(16).toString('hex');
  const body = randomBytes(bytes);
  try {
    const upMs = await timed(now, () => t.put(region, id, body));
    let back: Uint8Array = new Uint8Array();
    const downMs = await timed(now, async () => {
      back = await t.get(region, id);
    });
    if (sha(back) !== sha(body)) {
      throw new IntegrityError('PROBE_MISMATCH', `the test object read back from region ${region} differs`);
    }
    return { latencyMs: median(pings), up: perSecond(bytes, upMs), down: perSecond(bytes, downMs) };
  } finally {
    await t.delete(region, id).catch(() => {});
  }
}

/** Probes each region in turn (one at a time, so they do not compete for the link). */
export async function probeRegions(
  t: ProbeTransport,
  regions: readonly OfferedRegion[],
  options: { bytes?: number; now: () => number },
): Promise<RegionProbe[]> {
  const bytes = Math.min(Math.max(options.bytes ?? DEFAULT_PROBE_BYTES, 1), MAX_PROBE_BYTES);
  const results: RegionProbe[] = [];
  for (const r of regions) {
    const base = { region: r.name, kind: r.kind, bytes };
    try {
      const m = await measure(t, r.name, bytes, options.now);
      results.push({
        ...base,
        latencyMs: Math.round(m.latencyMs * 10) / 10,
        uploadBytesPerSecond: m.up,
        downloadBytesPerSecond: m.down,
        error: null,
      });
    } catch (err) {
      if (!isOffsiteError(err)) throw err;
      results.push({
        ...base,
        latencyMs: null,
        uploadBytesPerSecond: null,
        downloadBytesPerSecond: null,
        error: err.code,
      });
    }
  }
  return results;
}

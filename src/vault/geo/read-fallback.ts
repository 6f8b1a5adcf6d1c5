import { isOffsiteError } from '../../errors/index.ts';
import { type BlobStore, type FallbackEvent, FallbackStore, PrimaryHealth } from '../../storage/index.ts';
import type { VaultRow } from '../catalog/index.ts';
import { repoStore } from '../layout.ts';

// An agent's repository as the vault serves it: from the vault's region, and when that
// region fails while the vault has a secondary, reads from the secondary's copy. Whether a
// region is down is remembered per region store (so per server process: it is a hint that
// spares requests the primary's retries, not state that must be shared between instances).

export type GeoLog = (entry: Record<string, unknown>) => void;

const health = new WeakMap<BlobStore, PrimaryHealth>();

/** The shared health of a region's store (one per store object, made on first use). */
export function regionHealth(region: BlobStore): PrimaryHealth {
  let known = health.get(region);
  if (!known) {
    known = new PrimaryHealth();
    health.set(region, known);
  }
  return known;
}

function logEvent(log: GeoLog, vault: VaultRow, event: FallbackEvent): void {
  const regions = { vault: vault.name, region: vault.region, secondaryRegion: vault.secondaryRegion };
  const time = new Date().toISOString();
  if (event.kind === 'primary-back') {
    log({ time, level: 'info', msg: 'primary region answers again', ...regions, ...event });
    return;
  }
  const error = isOffsiteError(event.error) ? event.error.code : 'INTERNAL';
  log({
    time,
    level: 'warn',
    msg: 'primary region unreachable: reads are served from the secondary region',
    ...regions,
    op: event.op,
    object: event.name,
    error,
  });
}

/**
 * The repository of `serverId` in `vault`, with reads falling back to the secondary region
 * when the vault has one the server knows (a secondary missing from this server's regions
 * leaves plain reads: the replication task reports it).
 */
export function agentRepoStore(
  regionStore: (name: string) => BlobStore,
  vault: VaultRow,
  serverId: string,
  log: GeoLog,
): BlobStore {
  const primaryRegion = regionStore(vault.region);
  const primary = repoStore(primaryRegion, vault.id, serverId);
  if (vault.secondaryRegion === null) return primary;
  let secondaryRegion: BlobStore;
  try {
    secondaryRegion = regionStore(vault.secondaryRegion);
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'UNKNOWN_REGION') return primary;
    throw err;
  }
  return new FallbackStore(primary, repoStore(secondaryRegion, vault.id, serverId), {
    health: regionHealth(primaryRegion),
    primaryName: `the vault's region "${vault.region}"`,
    secondaryName: `its secondary region "${vault.secondaryRegion}"`,
    onEvent: (event) => logEvent(log, vault, event),
  });
}

import { condemnedPacks, readMarkers, scanMarkers } from './gc-markers.ts';
import type { Repository } from './repository.ts';

/**
 * What the condemned-pack markers (`gc/` objects, docs/design.md §11) condemn, for
 * `check` and `repair`, which report damaged markers instead of stopping at them.
 */
export interface CondemnedPacks {
  /** Hex ids of every pack some marker condemns. */
  packs: Set<string>;
  /** Markers that could not be read or decoded: `gc/<id>` and why. */
  damaged: { object: string; message: string }[];
}

export async function readCondemned(repo: Repository): Promise<CondemnedPacks> {
  const { markers, damaged } = await scanMarkers(repo);
  return { packs: condemnedPacks(markers), damaged };
}

/** Hex ids of every condemned pack; a damaged marker is an IntegrityError naming it. */
export async function listCondemnedPacks(repo: Repository): Promise<Set<string>> {
  return condemnedPacks(await readMarkers(repo));
}

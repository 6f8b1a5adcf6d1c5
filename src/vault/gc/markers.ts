import { ConflictError } from '../../errors/index.ts';
import {
  condemnedPacks,
  encodeVaultMarker,
  scanVaultMarkers,
  VAULT_MARKER_DIR,
} from '../../repo/gc-markers.ts';
import type { BlobStore } from '../../storage/index.ts';

// The vault's side of the `gc-vault/` markers in an agent's repository: one marker that
// lists exactly the packs the vault has condemned or deleted. Deleted packs stay listed
// because the agent's index files still name them: the marker tells its backups to store
// those blobs again and its `check` that they are gone on purpose.

export const PACK_ID = /^[0-9a-f]{64}$/;

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** What the marker must list, and what the repository holds, for syncVaultMarker. */
export interface MarkerWant {
  /** Packs the catalog has condemned or deleted. */
  packs: ReadonlySet<string>;
  /** Pack ids with an object in data/. */
  stored: ReadonlySet<string>;
  /** Pack ids the catalog has live and not condemned: never listed. */
  live: ReadonlySet<string>;
}

/**
 * Makes the marker list the wanted packs, plus every pack a marker lists already whose
 * object is gone and that the catalog has no live row of: a catalog rebuilt from storage
 * no longer knows deleted packs, but the agent's index files still name them. The new
 * marker is written before the old ones go, so at every moment some marker lists every
 * pack the catalog has condemned. Damaged or foreign objects under gc-vault/ are removed.
 * Returns whether anything changed.
 */
export async function syncVaultMarker(repo: BlobStore, want: MarkerWant, now: number): Promise<boolean> {
  const scan = await scanVaultMarkers(repo);
  const listed = condemnedPacks(scan.markers);
  const packs = new Set(want.packs);
  for (const id of listed) if (!want.stored.has(id) && !want.live.has(id)) packs.add(id);
  if (scan.damaged.length === 0 && scan.markers.length <= 1 && sameSet(listed, packs)) return false;
  let keep: string | undefined;
  if (packs.size > 0) {
    const marker = encodeVaultMarker(new Date(now), packs);
    try {
      await repo.put(marker.name, marker.body);
    } catch (err) {
      // The same bytes are there already (same time and packs): that is the marker wanted.
      if (!(err instanceof ConflictError)) throw err;
    }
    keep = marker.name;
  }
  const old = [
    ...scan.markers.map((m) => `${VAULT_MARKER_DIR}/${m.id}`),
    ...scan.damaged.map((d) => d.object),
  ];
  for (const name of old) if (name !== keep) await repo.delete(name);
  return true;
}

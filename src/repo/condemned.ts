import { IntegrityError } from '../errors/index.ts';
import { condemnedPacks, scanMarkers, scanVaultMarkers } from './gc-markers.ts';
import type { Repository } from './repository.ts';

/**
 * What the condemned-pack markers condemn: the repository's own (`gc/`, written by
 * prune, docs/design.md §11) and a vault's (`gc-vault/`, written by the vault's garbage
 * collection, §15). Backups treat blobs of these packs as absent; `check` and `repair`
 * report damaged markers instead of stopping at them.
 */
export interface CondemnedPacks {
  /** Hex ids of every pack some marker condemns, of either kind. */
  packs: Set<string>;
  /** The subset a vault marker condemns: the vault deletes these, not prune. */
  vaultPacks: Set<string>;
  /** Markers that could not be read or decoded: `gc/<id>` or `gc-vault/<id>` and why. */
  damaged: { object: string; message: string }[];
}

export async function readCondemned(repo: Repository): Promise<CondemnedPacks> {
  const own = await scanMarkers(repo);
  const vault = await scanVaultMarkers(repo.store);
  const vaultPacks = condemnedPacks(vault.markers);
  return {
    packs: new Set([...condemnedPacks(own.markers), ...vaultPacks]),
    vaultPacks,
    damaged: [...own.damaged, ...vault.damaged],
  };
}

/** Hex ids of every condemned pack; a damaged marker is an IntegrityError naming it. */
export async function listCondemnedPacks(repo: Repository): Promise<Set<string>> {
  const { packs, damaged } = await readCondemned(repo);
  const [first] = damaged;
  if (first) throw new IntegrityError('CORRUPT_MARKER', first.message, { object: first.object });
  return packs;
}

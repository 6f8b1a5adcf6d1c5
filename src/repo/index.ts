// The repository engine: a content-addressed, deduplicated, compressed and encrypted
// store of snapshots (recovery points) on any BlobStore. Pure library, no network code;
// imports only src/storage, src/util and src/errors. The format is docs/design.md.
export {
  type BackupError,
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  backup,
} from './backup/archiver.ts';
export { DEFAULT_CACHE_BYTES, DiskCache } from './cache.ts';
export { type CheckOptions, type CheckProblem, type CheckResult, checkRepository } from './check.ts';
export { checkPassphraseStrength, fastKdfParams, MIN_PASSPHRASE_LENGTH } from './crypto/kdf.ts';
export { type Change, type DiffResult, diffTrees } from './diff.ts';
export { addKeySlot, type KeySlot, listKeySlots, removeKeySlot } from './keyring.ts';
export { packName, Repository } from './repository.ts';
export {
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  restore,
} from './restore/restorer.ts';
export { decodeSnapshot, type Snapshot, type SnapshotRef, type SnapshotStats, shortId } from './snapshot.ts';
export { snapshotPacks } from './snapshot-packs.ts';
export { findParent, findSnapshot, listSnapshots, type SnapshotFilter } from './snapshots.ts';
export { printableName, type TreeNode } from './tree.ts';
export { walkTree } from './walk.ts';

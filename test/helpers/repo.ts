// A real repository on a real filesystem for end-to-end tests; cheap KDF so tests
// that create many repositories stay fast (the format is the same).
import { join } from 'node:path';
import { fastKdfParams, Repository } from '../../src/repo/index.ts';
import { ensureDir, FileStore } from '../../src/storage/index.ts';

export const TEST_PASSPHRASE = 'a test passphrase, long enough';

/** `config`: repository parameters other than the defaults (e.g. tiny packs or chunks). */
export async function makeRepo(
  dir: string,
  config?: NonNullable<Parameters<typeof Repository.init>[2]>['config'],
): Promise<{ path: string; repo: Repository }> {
  const path = join(dir, 'repo');
  await ensureDir(path);
  const repo = await Repository.init(new FileStore(path), TEST_PASSPHRASE, { kdf: fastKdfParams(), config });
  return { path, repo };
}

/** A fresh handle, as a new process would have: keys unlocked, index loaded from storage. */
export async function reopen(path: string): Promise<Repository> {
  const repo = await Repository.open(new FileStore(path), TEST_PASSPHRASE);
  await repo.loadIndex();
  return repo;
}

export async function storedBytes(repo: Repository, prefix = ''): Promise<number> {
  let total = 0;
  for await (const object of repo.store.list(prefix)) total += object.size;
  return total;
}

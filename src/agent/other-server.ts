import { createHash, hkdfSync } from 'node:crypto';
import { isOffsiteError } from '../errors/index.ts';
import { Repository } from '../repo/index.ts';
import { type BlobStore, httpProtocol } from '../storage/index.ts';
import type { AgentState } from './state.ts';
import { vaultRepoStore } from './vault.ts';

// Restore elsewhere, the agent's side. Every agent publishes in its repository the
// SHA-256 of its restore access T = HKDF(master key, "offsite v1 restore access"). Another
// machine of the same vault that knows the passphrase reads config and keys/ (open to
// the vault), unlocks the master key locally, derives T and presents it with every
// further read; the vault compares hashes. T depends on the master key alone, so it
// survives passphrase changes, and the passphrase never leaves the machine.

const { RESTORE_ACCESS_HEADER, RESTORE_ACCESS_OBJECT, encodeRestoreAccess } = httpProtocol;

/** T as hex: 32 bytes derived from the master key only. */
export function restoreAccessToken(master: Buffer): string {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'offsite v1 restore access', 32)).toString(
    'hex',
  );
}

/**
 * Stores SHA-256(T) in the repository unless it is there: create-only, so a concurrent
 * command that stored it first is no error. 'present' also when it was there already.
 */
export async function publishRestoreAccess(repo: Repository): Promise<'published' | 'present'> {
  if ((await repo.store.head(RESTORE_ACCESS_OBJECT)) !== null) return 'present';
  const token = Buffer.from(restoreAccessToken(repo.keys.master), 'hex');
  const record = encodeRestoreAccess(createHash('sha256').update(token).digest('hex'));
  try {
    await repo.store.put(RESTORE_ACCESS_OBJECT, record);
    return 'published';
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'OBJECT_EXISTS') return 'present';
    throw err;
  }
}

/**
 * Opens the repository a vault command works on: this agent's own (`store`), publishing
 * its restore access on the way when it is missing (a failure there is left for the next
 * command: the command itself must not fail for it), or with `fromServer` another
 * server's of the same vault, read-only.
 */
export async function openVaultRepository(
  state: AgentState,
  store: BlobStore,
  passphrase: string,
  fromServer?: string,
): Promise<Repository> {
  if (fromServer !== undefined) return openOtherServer(state, fromServer, passphrase);
  const repo = await Repository.open(store, passphrase);
  await publishRestoreAccess(repo).catch((err: unknown) => {
    if (!isOffsiteError(err)) throw err;
  });
  return repo;
}

/**
 * Another server's repository in this agent's vault, opened with that server's
 * passphrase. Unlocking needs only config and keys/; T then opens the rest.
 */
export async function openOtherServer(
  state: AgentState,
  server: string,
  passphrase: string,
): Promise<Repository> {
  let token: string | undefined;
  // Through the agent's proxy and throttle like its own store; T goes with each request once known.
  const store = vaultRepoStore(state, {
    http: {
      otherServer: server,
      headers: (): Record<string, string> => (token === undefined ? {} : { [RESTORE_ACCESS_HEADER]: token }),
    },
  });
  // A listing answers SERVER_NOT_FOUND for a name the vault does not have (a HEAD of
  // config could only say 404), before the passphrase is put to work.
  for await (const _ of store.list('keys/')) break;
  const repo = await Repository.open(store, passphrase);
  token = restoreAccessToken(repo.keys.master);
  return repo;
}

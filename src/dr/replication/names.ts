import { createHash } from 'node:crypto';
import { AuthError, BadInputError } from '../../errors/index.ts';
import { validateObjectName } from '../../storage/index.ts';

// What a sender may write into a replica's repository, and delete from it. Only the
// objects a backup writes are accepted, and every one except `config` must be named by
// the SHA-256 of its bytes (design.md §1): so a sender can neither plant prune markers or
// locks (which would steer the replica's own garbage collection) nor store an object
// under a name that lies about its contents.

const HASHED = /^(?:keys|index|snapshots|sessions)\/[0-9a-f]{64}$|^data\/([0-9a-f]{2})\/\1[0-9a-f]{62}$/;

export const SENDER_DELETABLE_PREFIX = 'sessions/';

/** Refuses (BadInputError) a name the sender may not write; `config` and hashed names pass. */
export function checkWritableName(name: string): void {
  validateObjectName(name);
  if (name === 'config' || HASHED.test(name)) return;
  throw new BadInputError('NAME_NOT_REPLICABLE', `a sender may not write ${name} into a replica`, {
    hint: 'senders write config, keys/, data/, index/, snapshots/ and sessions/ objects named by their SHA-256',
  });
}

/** The hex SHA-256 the name promises, or undefined for `config`. */
export function promisedHash(name: string): string | undefined {
  return name === 'config' ? undefined : name.slice(name.lastIndexOf('/') + 1);
}

/** Refuses bytes whose SHA-256 is not the one announced, nor the one the name promises. */
export function checkContent(name: string, body: Buffer, announced: string | undefined): string {
  const actual = createHash('sha256').update(body).digest('hex');
  if (announced !== undefined && announced !== actual) {
    throw new BadInputError('SHA256_MISMATCH', `the bytes of ${name} do not match x-offsite-sha256`, {
      hint: 'the upload was damaged on the way; send it again',
    });
  }
  const promised = promisedHash(name);
  if (promised !== undefined && promised !== actual) {
    throw new BadInputError('NAME_NOT_HASH', `${name} is not named by the SHA-256 of its bytes`, {
      hint: 'objects other than config are named by the SHA-256 of their bytes',
    });
  }
  return actual;
}

export function checkDeletableName(name: string): void {
  validateObjectName(name);
  if (name.startsWith(SENDER_DELETABLE_PREFIX)) return;
  throw new AuthError('FORBIDDEN', `a sender cannot delete replicated data (refused: ${name})`, {
    hint: 'the replica site deletes recovery points by its retention policy',
  });
}

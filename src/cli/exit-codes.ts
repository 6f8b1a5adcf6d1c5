import { isOffsiteError } from '../errors/index.ts';

/** The one place where failures become process exit codes (documented in README). */
export const EXIT = {
  ok: 0,
  failed: 1,
  partial: 3,
  repoMissing: 10,
  wrongPassphrase: 12,
} as const;

export function exitCodeFor(err: unknown): number {
  if (!isOffsiteError(err)) return EXIT.failed;
  if (err.code === 'REPO_NOT_FOUND') return EXIT.repoMissing;
  if (err.code === 'WRONG_PASSPHRASE') return EXIT.wrongPassphrase;
  return EXIT.failed;
}

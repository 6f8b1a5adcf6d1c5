// For tests only (not exported): checks shared by the Azure and S3 test files.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { OffsiteError } from '../../errors/index.ts';

/** No secret in the message, the hint, or anything inspect or JSON shows (causes included). */
export function assertNoSecret(err: unknown, secrets: readonly string[]): void {
  assert.ok(err instanceof OffsiteError, `not an OffsiteError: ${String(err)}`);
  const shown = `${err.message}\n${err.hint ?? ''}\n${inspect(err, { depth: 10 })}\n${JSON.stringify(err)}`;
  for (const secret of secrets) assert.ok(!shown.includes(secret), `a secret appears in: ${shown}`);
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthError,
  BadInputError,
  ConflictError,
  IntegrityError,
  NotFoundError,
  type OffsiteError,
  QuotaError,
  TransientError,
} from '../../errors/index.ts';
import { isRetryable } from '../wrappers/index.ts';
import { connectionError, errorFromAnswer } from './errors.ts';

const body = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields));
const at = 'https://vault.example:8443';

test('answers map back to the error tree by status, keeping the server’s code, message and hint', () => {
  const cases: [number, string, abstract new (...a: never[]) => OffsiteError][] = [
    [400, 'BAD_OBJECT_NAME', BadInputError],
    [401, 'AGENT_NOT_REGISTERED', AuthError],
    [403, 'FORBIDDEN', AuthError],
    [404, 'OBJECT_NOT_FOUND', NotFoundError],
    [409, 'OBJECT_EXISTS', ConflictError],
    [413, 'BODY_TOO_LARGE', BadInputError],
    [503, 'BUSY', TransientError],
    [507, 'QUOTA_EXCEEDED', QuotaError],
  ];
  for (const [status, code, type] of cases) {
    const err = errorFromAnswer(status, body({ error: code, message: 'm', hint: 'h' }), at);
    assert.ok(err instanceof type, `${status} ${err.constructor.name}`);
    assert.deepEqual([err.code, err.message, err.hint], [code, 'm', 'h']);
  }
  const internal = errorFromAnswer(500, body({ error: 'INTERNAL', message: 'm' }), at);
  assert.equal(internal.kind, 'internal');
  assert.equal(isRetryable(internal), false, 'a server bug is not retried');
});

test('a kind named in the answer wins; 416 is BAD_RANGE; a non-JSON answer still maps', () => {
  assert.ok(
    errorFromAnswer(500, body({ error: 'X', kind: 'integrity', message: 'm' }), at) instanceof IntegrityError,
  );
  assert.ok(
    errorFromAnswer(500, body({ error: 'X', kind: 'nonsense', message: 'm' }), at).kind === 'internal',
  );
  const range = errorFromAnswer(416, body({ error: 'RANGE_NOT_SATISFIABLE', message: 'past the end' }), at);
  assert.ok(range instanceof BadInputError);
  assert.deepEqual([range.code, range.message], ['BAD_RANGE', 'past the end']);
  const proxy = errorFromAnswer(502, Buffer.from('<html>bad gateway</html>'), at);
  assert.ok(proxy instanceof TransientError);
  assert.equal(proxy.code, 'HTTP_502');
  assert.match(proxy.message, /vault\.example:8443 answered HTTP 502/);
  assert.equal(errorFromAnswer(418, Buffer.alloc(0), at).kind, 'bad-input');
});

test('no answer is transient (so retried), except a server certificate that is not trusted', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']) {
    const err = connectionError(errno(code), at);
    assert.ok(err instanceof TransientError, code);
    assert.ok(isRetryable(err), code);
  }
  const untrusted = connectionError(errno('SELF_SIGNED_CERT_IN_CHAIN'), at);
  assert.ok(untrusted instanceof AuthError);
  assert.equal(untrusted.code, 'SERVER_NOT_TRUSTED');
  assert.equal(isRetryable(untrusted), false);
});

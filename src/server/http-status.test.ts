import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthError,
  type ErrorKind,
  IntegrityError,
  NotFoundError,
  QuotaError,
  TransientError,
} from '../errors/index.ts';
import { errorBody, errorFromResponse, forbidden, STATUS_BY_KIND, statusFor } from './http-status.ts';

test('every error kind has a status, and the classes map as documented', () => {
  const kinds: ErrorKind[] = [
    'not-found',
    'integrity',
    'auth',
    'quota',
    'conflict',
    'bad-input',
    'transient',
    'internal',
  ];
  for (const kind of kinds) assert.equal(typeof STATUS_BY_KIND[kind], 'number', kind);
  assert.equal(statusFor(new NotFoundError('X', 'x')), 404);
  assert.equal(statusFor(new AuthError('X', 'x')), 401);
  assert.equal(statusFor(forbidden('no')), 403);
  assert.equal(statusFor(new QuotaError('X', 'x')), 507);
  assert.equal(statusFor(new IntegrityError('X', 'x')), 500);
  assert.equal(statusFor(new TransientError('X', 'x')), 503);
  assert.equal(statusFor(new Error('boom')), 500);
});

test('the error body carries code, message and hint; an unexpected error says nothing internal', () => {
  assert.deepEqual(errorBody(new NotFoundError('VAULT_NOT_FOUND', 'no vault', { hint: 'list them' })), {
    error: 'VAULT_NOT_FOUND',
    message: 'no vault',
    hint: 'list them',
  });
  const body = errorBody(new Error('secret path /etc/x'));
  assert.equal(body.error, 'INTERNAL');
  assert.doesNotMatch(JSON.stringify(body), /secret/);
});

test('a client turns a status back into the same kind and code', () => {
  const cases: [number, string, ErrorKind][] = [
    [404, 'VAULT_NOT_FOUND', 'not-found'],
    [401, 'UNAUTHORIZED', 'auth'],
    [403, 'FORBIDDEN', 'auth'],
    [409, 'VAULT_EXISTS', 'conflict'],
    [413, 'BODY_TOO_LARGE', 'bad-input'],
    [500, 'INTERNAL', 'internal'],
    [507, 'QUOTA_FULL', 'quota'],
  ];
  for (const [status, code, kind] of cases) {
    const err = errorFromResponse(status, { error: code, message: 'm', hint: 'h' });
    assert.equal(err.kind, kind, code);
    assert.equal(err.code, code);
    assert.equal(err.hint, 'h');
  }
  const odd = errorFromResponse(502, 'not json');
  assert.equal(odd.code, 'HTTP_502');
  assert.equal(odd.kind, 'transient');
});

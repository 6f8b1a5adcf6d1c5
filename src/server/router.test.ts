import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOffsiteError } from '../errors/index.ts';
import { MethodNotAllowedError, Router } from './router.ts';
import type { Route } from './types.ts';

function route(method: Route['method'], path: string): Route {
  return {
    method,
    path,
    auth: 'public',
    bodyLimit: 0,
    summary: path,
    tag: 't',
    handler: async () => ({ body: path }),
  };
}

const router = new Router([
  route('GET', '/v1/vaults'),
  route('POST', '/v1/vaults'),
  route('GET', '/v1/vaults/:name'),
  route('DELETE', '/v1/vaults/:name'),
  route('GET', '/v1/vaults/:name/servers/:server'),
]);

test('literal and parameter paths match, with params decoded', () => {
  assert.equal(router.match('GET', '/v1/vaults').route.path, '/v1/vaults');
  const m = router.match('GET', '/v1/vaults/a%20b');
  assert.equal(m.route.path, '/v1/vaults/:name');
  assert.deepEqual(m.params, { name: 'a b' });
  assert.deepEqual(router.match('GET', '/v1/vaults/v/servers/s1').params, { name: 'v', server: 's1' });
});

test('an unknown path is NOT_FOUND; an empty parameter or extra segment does not match', () => {
  for (const path of ['/nope', '/v1/vaults/', '/v1/vaults/a/b', '/v1', '/v1/vaults/a/servers/']) {
    assert.throws(
      () => router.match('GET', path),
      (err) => isOffsiteError(err) && err.code === 'NOT_FOUND',
      path,
    );
  }
});

test('a known path with another method is 405 and lists the allowed methods', () => {
  assert.throws(
    () => router.match('PUT', '/v1/vaults/x'),
    (err) => err instanceof MethodNotAllowedError && err.allow.join(',') === 'GET,DELETE',
  );
});

test('a malformed %-escape is bad input, not a crash', () => {
  assert.throws(
    () => router.match('GET', '/v1/vaults/%E0%A4%A'),
    (err) => isOffsiteError(err) && err.code === 'BAD_PATH',
  );
});

test('duplicate routes are refused when the table is built', () => {
  assert.throws(() => new Router([route('GET', '/a/:x'), route('GET', '/a/:y')]), /duplicate route/);
});

test('a last :name* segment takes the rest of the path, slashes and empty segments included', () => {
  const rest = new Router([route('GET', '/o/:name*'), route('GET', '/o'), route('GET', '/p/:id')]);
  assert.deepEqual(rest.match('GET', '/o/data/ab/cd').params, { name: 'data/ab/cd' });
  assert.deepEqual(rest.match('GET', '/o/a%2Fb/%2e%2e').params, { name: 'a/b/..' });
  assert.deepEqual(rest.match('GET', '/o//etc/passwd').params, { name: '/etc/passwd' });
  assert.deepEqual(rest.match('GET', '/o/').params, { name: '' });
  assert.equal(rest.match('GET', '/o').route.path, '/o');
  assert.throws(
    () => rest.match('GET', '/o/a/%E0%A4%A'),
    (err) => isOffsiteError(err) && err.code === 'BAD_PATH',
  );
  assert.throws(() => new Router([route('GET', '/o/:name*/x')]), /only the last segment/);
  assert.doesNotThrow(() => new Router([route('GET', '/a/:x'), route('GET', '/a/:rest*')]));
});

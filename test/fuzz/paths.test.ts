// Fuzzes the parsers of names and paths from requests: the router's match over the real
// route table (percent-decoding of params included) and repository object names
// (validateObjectName, validatePrefix), on arbitrary strings and on mutations of real
// paths — a matched param or an accepted name must never hold a traversal.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router } from '../../src/server/router.ts';
import { routeTable } from '../../src/server/routes.ts';
import { isValidObjectName, validateObjectName, validatePrefix } from '../../src/storage/names.ts';
import { fc, params, refusesCleanly, testTimeout } from './harness.ts';

const router = new Router(routeTable());
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'get', ''];

const pathPiece = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    '%2e%2e',
    '%2f',
    '%',
    '%zz',
    '%c0%af',
    '%00',
    '\u0000',
    'v1',
    'vaults',
    'data',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** A real route's path with its params filled by hostile pieces. */
const routePath = fc
  .tuple(
    fc.constantFrom(...router.routes.map((r) => r.path)),
    fc.array(pathPiece, { minLength: 1, maxLength: 4 }),
  )
  .map(([path, pieces]) => {
    let i = 0;
    return path.replace(/:[A-Za-z0-9]+\*?/g, () =>
      pieces
        .map(encodeMaybe)
        .slice(i++ % pieces.length)
        .join('/'),
    );
  });
const anyPath = fc.oneof(
  routePath,
  fc.array(pathPiece, { maxLength: 8 }).map((parts) => `/${parts.join('/')}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

function encodeMaybe(piece: string): string {
  return piece.length % 2 === 0 ? piece : encodeURIComponent(piece);
}

const NAME_CODES = ['BAD_OBJECT_NAME'];
const nameLike = fc.oneof(
  fc.array(pathPiece, { maxLength: 6 }).map((parts) => parts.join('/')),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('a'.repeat(2000), `${'a/'.repeat(600)}a`, `data/${'b'.repeat(300)}`, 'keys/../config'),
);

describe('fuzz: paths and object names', () => {
  it('Router.match returns a route or NOT_FOUND, METHOD_NOT_ALLOWED, BAD_PATH', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), anyPath, (method, path) => {
        const match = refusesCleanly('Router.match', path.length, () => router.match(method, path), [
          'NOT_FOUND',
          'METHOD_NOT_ALLOWED',
          'BAD_PATH',
        ]);
        for (const value of Object.values(match?.params ?? {})) assert.equal(typeof value, 'string');
      }),
      params(),
    );
  });

  it('validateObjectName accepts only names without traversal', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(nameLike, (name) => {
        const ok = refusesCleanly(
          'validateObjectName',
          name.length,
          () => validateObjectName(name),
          NAME_CODES,
        );
        assert.equal(ok !== undefined, isValidObjectName(name));
        if (ok !== undefined) {
          const segments = name.split('/');
          assert.ok(!name.startsWith('/') && !name.includes('\\') && !name.includes('\u0000'), name);
          assert.ok(
            segments.every((s) => s !== '' && s !== '.' && s !== '..'),
            name,
          );
        }
        refusesCleanly('validatePrefix', name.length, () => validatePrefix(name), NAME_CODES);
      }),
      params(),
    );
  });
});

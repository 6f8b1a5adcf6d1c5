import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from './input.ts';

// Regression test for an input found by test/fuzz/api-bodies.test.ts: a long run of "T"
// made isoTime's pattern backtrack quadratically (a 2 MiB job report, which the route
// accepts, held the event loop for about an hour). Now it is refused at once.
describe('isoTime', () => {
  it('reads an ISO 8601 time with a zone', () => {
    assert.equal(isoTime('t', '2025-01-01T10:00:00Z'), Date.UTC(2025, 0, 1, 10));
    assert.equal(isoTime('t', '2025-01-01T10:00:00.123456789+01:00'), Date.UTC(2025, 0, 1, 9, 0, 0, 123));
  });

  for (const text of ['T'.repeat(2 * 1024 * 1024), `2025-01-01T10:00:00${' '.repeat(100)}Z`]) {
    it(`refuses a ${text.length}-character string with BAD_FIELD`, { timeout: 10_000 }, () => {
      assert.throws(() => isoTime('endedAt', text), { code: 'BAD_FIELD' });
    });
  }
});

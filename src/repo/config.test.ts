import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntegrityError } from '../errors/index.ts';
import { decodeConfig, newConfig } from './config.ts';

// Regression tests for inputs found by test/fuzz/sealed-files.test.ts: a config's
// plaintext that is not JSON, or JSON that is not an object, is CORRUPT_CONFIG, never a
// SyntaxError or TypeError escaping.
describe('decodeConfig', () => {
  it('decodes a config it wrote', () => {
    const config = newConfig();
    assert.deepEqual(decodeConfig(Buffer.from(JSON.stringify(config))), config);
  });

  for (const [label, text] of [
    ['invalid JSON (a control character in a string)', '{"version":1,"id":"9e\u0000"}'],
    ['null', 'null'],
    ['a number', '1'],
    ['an array', '[]'],
  ]) {
    it(`refuses ${label} with CORRUPT_CONFIG`, () => {
      assert.throws(
        () => decodeConfig(Buffer.from(text!)),
        (err) => err instanceof IntegrityError && err.code === 'CORRUPT_CONFIG',
      );
    });
  }
});

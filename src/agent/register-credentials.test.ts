import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCredentialsFile } from './register.ts';

// Regression tests for inputs found by test/fuzz/credentials.test.ts: a credentials file
// holding JSON null threw a TypeError, and one without a string server or CA passed and
// broke registration later. Both are NOT_CREDENTIALS_FILE.
const dir = mkdtempSync(join(tmpdir(), 'offsite-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  kind: 'offsite-vault-credentials',
  version: 1,
  server: 'https://vault.example:8443',
  vault: { id: 'v1', name: 'prod' },
  caPem: 'PEM',
  secret: 'secret',
  expiresAt: '2026-01-02T00:00:00Z',
};
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('readCredentialsFile', () => {
  for (const [label, text] of [
    ['JSON null', 'null'],
    ['no server', JSON.stringify({ ...valid, server: undefined })],
    ['a numeric server', JSON.stringify({ ...valid, server: 1 })],
    ['a null CA', JSON.stringify({ ...valid, caPem: null })],
  ]) {
    it(`refuses ${label} with NOT_CREDENTIALS_FILE`, async () => {
      const path = join(dir, 'file.json');
      writeFileSync(path, text!);
      await assert.rejects(readCredentialsFile(path, NOW), { code: 'NOT_CREDENTIALS_FILE' });
    });
  }

  it('reads a valid file', async () => {
    const path = join(dir, 'valid.json');
    writeFileSync(path, JSON.stringify(valid));
    assert.deepEqual(await readCredentialsFile(path, NOW), valid);
  });
});

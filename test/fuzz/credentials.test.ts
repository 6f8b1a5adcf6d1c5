// Fuzzes readCredentialsFile (src/agent/register.ts), which reads a vault credentials
// file a user downloaded: arbitrary bytes, arbitrary JSON, a valid file with one field
// replaced, and mutations of a valid file, each written to a real temp file.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCredentialsFile } from '../../src/agent/register.ts';
import {
  anyBytes,
  anyJson,
  fc,
  jsonishBytes,
  mutated,
  params,
  refusesCleanlyAsync,
  testTimeout,
} from './harness.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'offsite-fuzz-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  kind: 'offsite-vault-credentials',
  version: 1,
  server: 'https://vault.example:8443',
  vault: { id: 'v1', name: 'prod' },
  caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  secret: 'a-secret-of-the-credentials-file',
  expiresAt: '2026-01-02T00:00:00Z',
};
const validBytes = Buffer.from(JSON.stringify(valid, null, 2));
const oneFieldReplaced = fc
  .tuple(fc.constantFrom(...Object.keys(valid)), anyJson)
  .map(([key, value]) => Buffer.from(JSON.stringify({ ...valid, [key]: value })));

describe('fuzz: credentials file', () => {
  it('readCredentialsFile reads a valid file', async () => {
    const path = join(dir, 'valid.json');
    writeFileSync(path, validBytes);
    assert.deepEqual(await readCredentialsFile(path, NOW), valid);
  });

  it('readCredentialsFile returns a file or NOT_CREDENTIALS_FILE / CREDENTIALS_EXPIRED', {
    timeout: testTimeout(),
  }, async () => {
    const path = join(dir, 'fuzzed.json');
    const inputs = fc.oneof(anyBytes, jsonishBytes, oneFieldReplaced, mutated(fc.constant(validBytes)));
    await fc.assert(
      fc.asyncProperty(inputs, async (bytes) => {
        writeFileSync(path, bytes);
        const file = await refusesCleanlyAsync(
          'readCredentialsFile',
          bytes.length,
          () => readCredentialsFile(path, NOW),
          ['NOT_CREDENTIALS_FILE', 'CREDENTIALS_EXPIRED'],
        );
        if (file) {
          assert.equal(file.kind, 'offsite-vault-credentials');
          for (const key of ['secret', 'server', 'caPem'] as const) assert.equal(typeof file[key], 'string');
        }
      }),
      params(),
    );
  });
});

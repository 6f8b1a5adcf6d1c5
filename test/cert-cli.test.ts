// `offsite cert create` makes a certificate a vault accepts; `offsite cert validate`
// names every rule and fails on the broken ones. Real files, the real CLI.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';

describe('offsite cert', () => {
  it('create writes a certificate that validate accepts, and a private key only the user reads', async (t) => {
    const dir = await tempDir(t);
    const out = join(dir, 'agent');
    const created = await runCli(['cert', 'create', '--cn', 'web01', '--out', out, '--days', '730']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await stat(join(out, 'key.pem'))).mode & 0o777, 0o600);
    const cert = new X509Certificate(await readFile(join(out, 'cert.cer')));
    assert.match(cert.subject, /CN=web01/);
    assert.equal(
      cert.fingerprint256,
      new X509Certificate(await readFile(join(out, 'cert.pem'))).fingerprint256,
    );

    const checked = await runCli(['cert', 'validate', join(out, 'cert.cer')]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    for (const rule of [
      'x509',
      'v3',
      'key-strength',
      'client-auth',
      'started',
      'not-expired',
      'max-validity',
    ])
      assert.match(checked.stdout, new RegExp(`ok\\s+${rule}`));
    assert.doesNotMatch(checked.stdout + checked.stderr, /PRIVATE KEY/);
  });

  it('create never overwrites an existing key', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'key.pem'), 'precious');
    const again = await runCli(['cert', 'create', '--cn', 'web01', '--out', dir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /key\.pem already exists/);
    assert.equal(await readFile(join(dir, 'key.pem'), 'utf8'), 'precious');
  });

  it('create refuses a validity beyond 3 years', async (t) => {
    const dir = await tempDir(t);
    const result = await runCli(['cert', 'create', '--cn', 'x', '--out', dir, '--days', '1200']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--days must be a whole number from 1 to 1096/);
  });

  it('validate names the broken rule and exits 1 for a file that is not a certificate', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'junk.cer'), 'this is not a certificate');
    const result = await runCli(['cert', 'validate', join(dir, 'junk.cer'), '--json']);
    assert.equal(result.code, 1);
    const report = lastJson(result);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.rules.filter((r: { ok: boolean }) => !r.ok).map((r: { code: string }) => r.code),
      ['CERT_UNPARSEABLE'],
    );
  });
});

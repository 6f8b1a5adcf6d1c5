// Registering protected servers with a vault over real HTTPS and mutual TLS: vault
// credentials files (single use, 48 h, only the newest) and uploaded certificates made
// by openssl (each upload rule broken alone is refused and named), then the agent's own
// identity, revocation, re-registration and certificate renewal.
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAgentState, renewIfDue } from '../src/agent/index.ts';
import { opensslDate, scratchDir } from '../src/pki/openssl-cli.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const DAY = 86_400_000;

async function createVault(v: TestVault, name: string): Promise<void> {
  const created = await runCli(['vault', 'create', name, '--region', 'local'], v.env);
  assert.equal(created.code, 0, created.stderr);
}

async function credentials(v: TestVault, vault: string, out: string) {
  const r = await runCli(['vault', 'credentials', vault, '--out', out, '--json'], v.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(await readFile(out, 'utf8'));
}

function publicKeyPem(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** POST /v1/register directly, so the server's own (injected) clock decides. */
function register(v: TestVault, secret: string, name = 'web1') {
  return v.call('/v1/register', {
    method: 'POST',
    token: '',
    body: JSON.stringify({ secret, publicKey: publicKeyPem(), name }),
  });
}

test('a credentials file registers an agent once; the agent then knows its vault', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  const file = join(v.dir, 'prod.credentials');
  await credentials(v, 'prod', file);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const agentDir = join(v.dir, 'agent-a');
  const env = { OFFSITE_AGENT_DIR: agentDir };
  const reg = await runCli(['agent', 'register', '--credentials', file, '--name', 'web1', '--json'], env);
  assert.equal(reg.code, 0, reg.stderr);
  assert.equal(lastJson(reg).vault.name, 'prod');
  assert.equal((await stat(agentDir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(agentDir, 'client-key.pem'))).mode & 0o777, 0o600);

  const status = await runCli(['agent', 'status', '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(lastJson(status).name, 'web1');

  const again = await runCli(['agent', 'register', '--credentials', file, '--force'], {
    OFFSITE_AGENT_DIR: join(v.dir, 'agent-b'),
  });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already been used|used/i);

  const servers = await runCli(['vault', 'servers', 'prod', '--json'], v.env);
  assert.deepEqual(
    lastJson(servers).servers.map((s: { name: string; via: string }) => [s.name, s.via]),
    [['web1', 'credentials']],
  );
});

test('a credentials file is refused after 48 hours and once a newer one was issued', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  const old = await credentials(v, 'prod', join(v.dir, 'old.json'));
  const newer = await credentials(v, 'prod', join(v.dir, 'new.json'));
  const superseded = await register(v, old.secret);
  assert.equal(superseded.status, 401);
  assert.equal(superseded.json().error, 'CREDENTIALS_SUPERSEDED');

  v.clock.advance(48 * 3_600_000 + 1000);
  const expired = await register(v, newer.secret);
  assert.equal(expired.status, 401);
  assert.equal(expired.json().error, 'CREDENTIALS_EXPIRED');

  const unknown = await register(v, 'x'.repeat(43));
  assert.equal(unknown.status, 401);
  assert.equal(unknown.json().error, 'CREDENTIALS_UNKNOWN');
  const servers = await v.call('/v1/vaults/prod/servers');
  assert.deepEqual(servers.json().servers, []);
});

test('the agent refuses an expired credentials file before contacting anyone', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  const file = join(v.dir, 'c.json');
  const content = await credentials(v, 'prod', file);
  await writeFile(file, JSON.stringify({ ...content, expiresAt: new Date(Date.now() - 1000).toISOString() }));
  const r = await runCli(['agent', 'register', '--credentials', file], {
    OFFSITE_AGENT_DIR: join(v.dir, 'a'),
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /expired/);
  assert.equal(await loadAgentState(join(v.dir, 'a')), undefined);
});

const RULE_CODES: Record<string, string> = {
  v3: 'CERT_NOT_V3',
  'key-strength': 'CERT_WEAK_KEY',
  'client-auth': 'CERT_NO_CLIENT_AUTH',
  started: 'CERT_NOT_YET_VALID',
  'not-expired': 'CERT_EXPIRED',
  'max-validity': 'CERT_VALIDITY_TOO_LONG',
};

/** openssl certificates for the upload rules, each breaking exactly one rule. */
function opensslCertificates() {
  const s = scratchDir();
  const cfg = ['-config', 'openssl.cnf'];
  s.openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa2048.key');
  s.openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', 'rsa1024.key');
  const x509 = (name: string, key: string, ext: string, days = 365) => {
    s.openssl(
      'req',
      ...cfg,
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${name}`,
      '-days',
      String(days),
      '-extensions',
      ext,
      '-out',
      `${name}.pem`,
    );
    return join(s.dir, `${name}.pem`);
  };
  s.openssl('req', ...cfg, '-new', '-key', 'rsa2048.key', '-subj', '/CN=dated', '-out', 'dated.csr');
  const dated = (name: string, from: number, to: number) => {
    s.openssl(
      'ca',
      ...cfg,
      '-batch',
      '-selfsign',
      '-keyfile',
      'rsa2048.key',
      '-in',
      'dated.csr',
      '-startdate',
      opensslDate(new Date(from)),
      '-enddate',
      opensslDate(new Date(to)),
      '-extensions',
      'client',
      '-notext',
      '-out',
      `${name}.pem`,
    );
    return join(s.dir, `${name}.pem`);
  };
  s.openssl('x509', '-req', '-in', 'dated.csr', '-signkey', 'rsa2048.key', '-days', '30', '-out', 'v1.pem');
  const now = Date.now();
  return {
    scratch: s,
    good: x509('good', 'rsa2048.key', 'client'),
    goodKey: join(s.dir, 'rsa2048.key'),
    broken: {
      v3: join(s.dir, 'v1.pem'),
      'key-strength': x509('weak', 'rsa1024.key', 'client'),
      'client-auth': x509('server', 'rsa2048.key', 'server'),
      'not-expired': dated('expired', now - 400 * DAY, now - DAY),
      started: dated('future', now + DAY, now + 300 * DAY),
      'max-validity': x509('long', 'rsa2048.key', 'client', 1100),
    } as Record<string, string>,
  };
}

test('certificate upload: each broken rule is refused and named; a compliant one registers its holder', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  const certs = opensslCertificates();
  t.after(() => certs.scratch.remove());
  for (const [rule, file] of Object.entries(certs.broken)) {
    const r = await runCli(['vault', 'cert', 'upload', 'prod', file], v.env);
    assert.equal(r.code, 1, `${rule}: ${r.stdout}`);
    assert.match(r.stderr, /certificate rejected/, rule);
    // A v1 certificate cannot carry extensions, so it lacks the EKU as well.
    const expected = rule === 'v3' ? ['v3', 'client-auth'] : [rule];
    for (const [name, code] of Object.entries(RULE_CODES)) {
      assert.equal(r.stderr.includes(code), expected.includes(name), `${rule}: ${code} in ${r.stderr}`);
    }
  }
  const notCert = join(v.dir, 'not-a-cert.pem');
  await writeFile(notCert, 'hello');
  const refused = await runCli(['vault', 'cert', 'upload', 'prod', notCert], v.env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /CERT_UNPARSEABLE/);
  assert.deepEqual((await v.call('/v1/vaults/prod/certificates')).json().certificates, []);

  const up = await runCli(['vault', 'cert', 'upload', 'prod', certs.good, '--json'], v.env);
  assert.equal(up.code, 0, up.stderr);
  const env = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_CA_CERT: v.server.files.caCert };
  const args = ['agent', 'register', '--server', v.server.url, '--vault', 'prod', '--name', 'db1'];
  const reg = await runCli([...args, '--cert', certs.good, '--key', certs.goodKey], env);
  assert.equal(reg.code, 0, reg.stderr);
  const status = await runCli(['agent', 'status', '--json'], env);
  assert.equal(lastJson(status).via, 'certificate');

  const wrongKey = await runCli(
    [...args, '--force', '--cert', certs.good, '--key', join(certs.scratch.dir, 'rsa1024.key')],
    env,
  );
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /does not belong/);

  const fingerprint = lastJson(up).fingerprint256;
  const revoke = await runCli(['vault', 'cert', 'revoke', 'prod', fingerprint], v.env);
  assert.equal(revoke.code, 0, revoke.stderr);
  const after = await runCli(['agent', 'status'], env);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /revoked/);
});

test('a certificate uploaded to one vault does not register into another', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  await createVault(v, 'test');
  const certs = opensslCertificates();
  t.after(() => certs.scratch.remove());
  assert.equal((await runCli(['vault', 'cert', 'upload', 'test', certs.good], v.env)).code, 0);
  const env = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_CA_CERT: v.server.files.caCert };
  const r = await runCli(
    [
      'agent',
      'register',
      '--server',
      v.server.url,
      '--vault',
      'prod',
      '--cert',
      certs.good,
      '--key',
      certs.goodKey,
    ],
    env,
  );
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not uploaded to the vault "prod"/);
});

test('re-registering a name keeps the server and retires the old certificate; renewal swaps it', async (t) => {
  const v = await startTestVault(t);
  await createVault(v, 'prod');
  const dirA = join(v.dir, 'a');
  await credentials(v, 'prod', join(v.dir, '1.json'));
  assert.equal(
    (
      await runCli(['agent', 'register', '--credentials', join(v.dir, '1.json'), '--name', 'web1'], {
        OFFSITE_AGENT_DIR: dirA,
      })
    ).code,
    0,
  );
  const before = (await loadAgentState(dirA))!;

  await credentials(v, 'prod', join(v.dir, '2.json'));
  const dirB = join(v.dir, 'b');
  assert.equal(
    (
      await runCli(['agent', 'register', '--credentials', join(v.dir, '2.json'), '--name', 'web1'], {
        OFFSITE_AGENT_DIR: dirB,
      })
    ).code,
    0,
  );
  const after = (await loadAgentState(dirB))!;
  assert.equal(after.info.serverId, before.info.serverId);
  const old = await runCli(['agent', 'status'], { OFFSITE_AGENT_DIR: dirA });
  assert.equal(old.code, 1);
  assert.match(old.stderr, /not registered/);

  const cert = new X509Certificate(after.certPem);
  const renewed = await renewIfDue(after, Date.parse(cert.validTo) - DAY);
  assert.notEqual(renewed.certPem, after.certPem);
  assert.equal((await loadAgentState(dirB))!.certPem, renewed.certPem);
  const status = await runCli(['agent', 'status', '--json'], { OFFSITE_AGENT_DIR: dirB });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(lastJson(status).serverId, before.info.serverId);
  const unchanged = await renewIfDue(renewed);
  assert.equal(unchanged.certPem, renewed.certPem);
});

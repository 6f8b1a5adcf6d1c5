// After a full scenario — people, tokens, a signed webhook, a registered agent, an
// encrypted backup and restore through the vault — no secret is found in clear anywhere
// it must not be: the server's logs, the catalog database, the region's storage, or the
// output of commands (except the one command whose job is to show a new token once).
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CliResult, lastJson, runCli } from './helpers/cli.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault } from './helpers/vault.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The forms a secret could leak in: as is, and base64 of its bytes. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64')];
}

test('no passphrase, password, token, key or webhook secret is found in logs, catalog, storage or output', async (t) => {
  const v = await startTestVault(t);
  const outputs: CliResult[] = [];
  const ok = async (args: string[], env: Record<string, string>) => {
    const r = await runCli([...args, '--json'], env);
    assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
    outputs.push(r);
    return lastJson(r);
  };
  const file = (name: string) => join(v.dir, name);
  const secrets = {
    passphrase: 'correct horse battery staple for the scan',
    password: 'a user password of the scan',
    webhook: 'webhook-signing-secret-of-the-scan',
  };
  await writeFile(file('pass'), `${secrets.passphrase}\n`);
  await writeFile(file('user-pass'), `${secrets.password}\n`);
  await writeFile(file('hook-secret'), `${secrets.webhook}\n`);

  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  await ok(['user', 'create', 'ada', '--role', 'operator', '--password-file', file('user-pass')], v.env);
  const created = await runCli(['token', 'create', 'ci', '--role', 'reader'], v.env);
  assert.equal(created.code, 0, created.stderr);
  const apiToken = created.stdout.trim();
  await ok(
    [
      'vault',
      'webhook-add',
      'prod',
      '--url',
      'http://127.0.0.1:9/hook',
      '--secret-file',
      file('hook-secret'),
    ],
    v.env,
  );
  await ok(['vault', 'credentials', 'prod', '--out', file('creds.json')], v.env);
  const credentialsSecret = JSON.parse(await readFile(file('creds.json'), 'utf8')).secret as string;
  const agent = { OFFSITE_AGENT_DIR: file('agent'), OFFSITE_PASSWORD_FILE: file('pass') };
  await ok(['agent', 'register', '--credentials', file('creds.json'), '--name', 'web1'], agent);
  await ok(['init'], agent);
  const src = file('src');
  await makeTree(src, { smallFiles: 30, largeFileBytes: 256 * 1024, seed: 61 });
  await ok(['backup', src], agent);
  await ok(['restore', 'latest', '--target', file('restored')], agent);
  await ok(['vault', 'jobs', 'prod'], v.env);
  const login = await v.call('/v1/login', {
    method: 'POST',
    token: '',
    body: JSON.stringify({ name: 'ada', password: secrets.password }),
  });
  assert.equal(login.status, 200);
  const session = login.json().token as string;
  const agentKey = await readFile(join(file('agent'), 'client-key.pem'), 'utf8');
  const keyBody = agentKey.split('\n').filter((l) => l && !l.startsWith('-----'));

  const all: Record<string, string[]> = {
    ...Object.fromEntries(Object.entries(secrets).map(([k, s]) => [k, forms(s)])),
    'admin token': forms(v.token),
    'API token': forms(apiToken),
    'session token': forms(session),
    'credentials secret': forms(credentialsSecret),
    'agent private key': keyBody,
  };
  const places: [string, string][] = [
    ['the server log', JSON.stringify(v.logs)],
    ...outputs.map((r, i): [string, string] => [`command output ${i}`, r.stdout + r.stderr]),
  ];
  const catalogFiles = (await filesUnder(join(v.dir, 'data'))).filter((f) => f.includes('catalog.sqlite'));
  for (const f of [...catalogFiles, ...(await filesUnder(join(v.dir, 'regions')))]) {
    places.push([f, (await readFile(f)).toString('latin1')]);
  }
  const found: string[] = [];
  for (const [what, variants] of Object.entries(all)) {
    for (const [where, text] of places) {
      if (variants.some((s) => s.length >= 8 && text.includes(s))) found.push(`${what} in ${where}`);
    }
  }
  assert.deepEqual(found, []);
  assert.ok(places.length > 20, `${places.length} places scanned`);
});

// `offsite agent passphrase change` against a real vault over HTTPS: the key is rewrapped
// (the old passphrase stops working, the new one opens the repository), no data object
// is rewritten, restore elsewhere keeps working with the new passphrase, the old key
// slot is kept by the vault out of the agent's reach, and the last slot is never retired.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect } from '../src/storage/conformance.ts';
import { FileStore } from '../src/storage/index.ts';
import { repoStore, serverPrefix } from '../src/vault/layout.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

interface Agent {
  dir: string;
  passFile: string;
  env: Record<string, string>;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function register(v: TestVault, home: string, name: string): Promise<Agent> {
  const file = join(home, `${name}.credentials`);
  await ok(['vault', 'credentials', 'prod', '--out', file], v.env);
  const passFile = join(home, `${name}.pass`);
  await writeFile(passFile, `first passphrase of ${name}\n`, { mode: 0o600 });
  const dir = join(home, `agent-${name}`);
  const env = { OFFSITE_AGENT_DIR: dir, OFFSITE_PASSWORD_FILE: passFile };
  await ok(['agent', 'register', '--credentials', file, '--name', name], env);
  return { dir, passFile, env };
}

/** Every object of the repository with the SHA-256 of its bytes, as the vault stores it. */
async function fingerprint(store: ReturnType<typeof repoStore>, prefix: string) {
  const out: Record<string, string> = {};
  for (const { name } of await collect(store.list(prefix))) {
    out[name] = createHash('sha256')
      .update(await store.get(name))
      .digest('hex');
  }
  return out;
}

test('passphrase change rewraps the key only: old one refused, new one works, data untouched', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await register(v, home, 'web1');
  const fresh = await register(v, home, 'newbox');
  const src = join(home, 'src');
  await makeTree(src, { smallFiles: 80, largeFileBytes: 1024 * 1024, seed: 3 });
  await ok(['init'], web.env);
  await ok(['backup', src], web.env);

  const info = JSON.parse(await readFile(join(web.dir, 'agent.json'), 'utf8'));
  const region = new FileStore(join(v.dir, 'regions', 'local'));
  const repo = repoStore(region, info.vault.id, info.serverId);
  const dataBefore = await fingerprint(repo, 'data/');
  const snapshotsBefore = await fingerprint(repo, 'snapshots/');
  const accessBefore = await repo.get('restore-access');
  assert.ok(Object.keys(dataBefore).length > 0);

  const newPass = join(home, 'new.pass');
  await writeFile(newPass, 'the second passphrase, long enough\n', { mode: 0o600 });
  const change = await runCli(['agent', 'passphrase', 'change', '--new-password-file', newPass], web.env);
  assert.equal(change.code, 0, change.stderr);
  assert.match(change.stdout, /no data was rewritten/);
  assert.match(change.stdout, /neither the vault nor anyone else can recover/);

  const old = await runCli(['snapshots'], web.env);
  assert.equal(old.code, 12, 'the old passphrase no longer opens the repository');
  const withNew = { ...web.env, OFFSITE_PASSWORD_FILE: newPass };
  assert.equal((await ok(['snapshots'], withNew)).length, 1);
  const target = join(home, 'restored');
  await ok(['restore', 'latest', '--target', target], withNew);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);

  assert.deepEqual(await fingerprint(repo, 'data/'), dataBefore, 'no pack was rewritten');
  assert.deepEqual(await fingerprint(repo, 'snapshots/'), snapshotsBefore);
  assert.ok((await repo.get('restore-access')).equals(accessBefore), 'the restore access did not change');
  const keys = await collect(repo.list('keys/'));
  assert.equal(keys.length, 1);
  const retired = await collect(region.list(`${serverPrefix(info.vault.id, info.serverId)}retired-keys/`));
  assert.deepEqual(
    retired.map((o) => o.name.replace(/.*\//, '').replace(/^[0-9a-f]{64}/, 'ID')).sort(),
    ['ID', 'ID.retired'],
    'the vault keeps the old slot, outside the repository, with its time',
  );

  // Restore elsewhere works with the new passphrase, not with the old one.
  const elsewhere = join(home, 'elsewhere');
  await ok(['restore', 'latest', '--from-server', 'web1', '--target', elsewhere], {
    ...fresh.env,
    OFFSITE_PASSWORD_FILE: newPass,
  });
  assert.deepEqual(await compareTrees(src, join(elsewhere, src)), []);
  const stale = await runCli(['snapshots', '--from-server', 'web1'], {
    ...fresh.env,
    OFFSITE_PASSWORD_FILE: web.passFile,
  });
  assert.equal(stale.code, 12);

  // --generate prints the new passphrase once, with the warning; it opens the repository.
  const generated = await ok(['agent', 'passphrase', 'change', '--generate'], withNew);
  assert.equal(typeof generated.passphrase, 'string');
  const thirdPass = join(home, 'third.pass');
  await writeFile(thirdPass, generated.passphrase, { mode: 0o600 });
  assert.equal((await ok(['snapshots'], { ...web.env, OFFSITE_PASSWORD_FILE: thirdPass })).length, 1);
  assert.equal((await runCli(['snapshots'], withNew)).code, 12);
  const text = await runCli(
    ['agent', 'passphrase', 'change', '--generate', '--password-file', thirdPass],
    web.env,
  );
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /new passphrase: \S{32}\n/);
  assert.match(text.stdout, /Store it safely/);
});

test('the vault retires key slots only of the caller, never the last one', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await register(v, home, 'web1');
  await ok(['init'], web.env);
  const cert = await readFile(join(web.dir, 'client.pem'), 'utf8');
  const key = await readFile(join(web.dir, 'client-key.pem'), 'utf8');
  const call = (path: string, method = 'DELETE') =>
    https(v.server.caPem, v.server.url + path, { cert, key, method });
  const [slot] = (await ok(['key', 'list'], web.env)) as { id: string }[];

  const last = await call(`/v1/agent/repo/keys/${slot!.id}`);
  assert.equal(last.status, 409);
  assert.equal(last.json().error, 'LAST_KEY');
  const missing = await call(`/v1/agent/repo/keys/${randomBytes(32).toString('hex')}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json().error, 'KEY_NOT_FOUND');
  const bad = await call('/v1/agent/repo/keys/not-an-id');
  assert.equal(bad.status, 400);
  // The objects path still refuses: key slots go only through the retiring route.
  const direct = await call(`/v1/agent/repo/objects/keys/${slot!.id}`);
  assert.equal(direct.status, 403);
  assert.equal((await ok(['snapshots'], web.env)).length, 0, 'the key still opens the repository');
});

test('init on a registered agent says, before the passphrase is set, that nobody can recover it', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await register(v, home, 'web1');
  // Without any passphrase given the notice still comes first, then the refusal.
  const none = await runCli(['init'], { OFFSITE_AGENT_DIR: web.dir });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /nor anyone else can recover[\s\S]*no passphrase given/);
  const init = await runCli(['init', '--generate-passphrase'], web.env);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stderr, /The vault never receives it: if it is lost, neither the vault nor anyone else/);
  const local = await runCli(['init', '--repo', join(home, 'local-repo')], {
    OFFSITE_PASSWORD: `a local passphrase ${randomBytes(4).toString('hex')}`,
  });
  assert.equal(local.code, 0, local.stderr);
  assert.doesNotMatch(
    local.stderr,
    /The vault never receives it/,
    'a local repository has no vault to mention',
  );
});

test('an owner puts back a slot an intruder retired; retention deletes retired slots after the soft-delete days', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await register(v, home, 'web1');
  const src = join(home, 'src');
  await makeTree(src, { smallFiles: 10, largeFileBytes: 64 * 1024, seed: 5 });
  await ok(['init'], web.env);
  await ok(['backup', src], web.env);
  const intruderPass = join(home, 'intruder.pass');
  await writeFile(intruderPass, 'the intruder passphrase, long enough\n', { mode: 0o600 });
  await ok(['agent', 'passphrase', 'change', '--new-password-file', intruderPass], web.env);
  assert.equal((await runCli(['snapshots'], web.env)).code, 12, 'the owner is locked out');

  const listed = await ok(['vault', 'retired-keys', 'prod', 'web1'], v.env);
  const [key] = listed.keys;
  assert.equal(Date.parse(key.expiresAt) - Date.parse(key.retiredAt), 14 * 86_400_000);
  const shown = await runCli(['vault', 'retired-keys', 'prod', 'web1'], v.env);
  assert.ok(shown.stdout.includes(key.id), shown.stdout);
  await ok(['vault', 'retired-keys', 'prod', 'web1', '--restore', key.id], v.env);
  assert.equal((await ok(['snapshots'], web.env)).length, 1, 'the old passphrase opens the backups again');
  assert.deepEqual((await v.call('/v1/vaults/prod/servers/web1/retired-keys')).json().keys, []);
  const again = await v.call(`/v1/vaults/prod/servers/web1/retired-keys/${key.id}/restore`, {
    method: 'POST',
  });
  assert.deepEqual([again.status, again.json().error], [404, 'RETIRED_KEY_NOT_FOUND']);

  // The owner retires the intruder's slot in turn; it runs out after the soft-delete days.
  const slots: { id: string; current: boolean }[] = await ok(['key', 'list'], web.env);
  const intruders = slots.find((slot) => !slot.current)!;
  await ok(['key', 'remove', intruders.id], web.env);
  assert.equal((await runCli(['snapshots'], { ...web.env, OFFSITE_PASSWORD_FILE: intruderPass })).code, 12);
  const retired = async () => (await v.call('/v1/vaults/prod/servers/web1/retired-keys')).json().keys.length;
  assert.equal(await retired(), 1);
  v.clock.advance(13 * 86_400_000);
  await v.server.background.runNow('retention');
  assert.equal(await retired(), 1, 'kept within the soft-delete days');
  v.clock.advance(2 * 86_400_000);
  await v.server.background.runNow('retention');
  assert.equal(await retired(), 0, 'deleted after them');
  assert.equal((await ok(['snapshots'], web.env)).length, 1, 'the owner still opens the backups');
});

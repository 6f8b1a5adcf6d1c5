// Restore elsewhere, end to end through the CLI over real HTTPS and mutual TLS: a freshly
// registered machine lists and restores another server's recovery points with that
// server's passphrase alone. Every refusal is checked on the wire: no restore access, a
// wrong one, a server of another vault, any write or delete. The vault never receives
// the passphrase (nor keeps the access token).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreAccessToken } from '../src/agent/other-server.ts';
import { AuthError } from '../src/errors/index.ts';
import { Repository } from '../src/repo/index.ts';
import { collect } from '../src/storage/conformance.ts';
import { FileStore, HttpBlobStore } from '../src/storage/index.ts';
import { repoStore } from '../src/vault/layout.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const MiB = 1024 * 1024;

interface Agent {
  name: string;
  dir: string;
  passFile: string;
  passphrase: string;
  env: Record<string, string>;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function register(v: TestVault, home: string, vault: string, name: string): Promise<Agent> {
  const file = join(home, `${name}.credentials`);
  await ok(['vault', 'credentials', vault, '--out', file], v.env);
  const passphrase = `passphrase of ${name} ${randomBytes(8).toString('hex')}`;
  const passFile = join(home, `${name}.pass`);
  await writeFile(passFile, `${passphrase}\n`, { mode: 0o600 });
  const dir = join(home, `agent-${name}`);
  const env = { OFFSITE_AGENT_DIR: dir, OFFSITE_PASSWORD_FILE: passFile };
  await ok(['agent', 'register', '--credentials', file, '--name', name], env);
  return { name, dir, passFile, passphrase, env };
}

/** Raw HTTPS as the agent, with its client certificate. */
async function asAgent(v: TestVault, agent: Agent) {
  const cert = await readFile(join(agent.dir, 'client.pem'), 'utf8');
  const key = await readFile(join(agent.dir, 'client-key.pem'), 'utf8');
  const info = JSON.parse(await readFile(join(agent.dir, 'agent.json'), 'utf8'));
  const call = (path: string, o: Parameters<typeof https>[2] = {}) =>
    https(v.server.caPem, v.server.url + path, { cert, key, ...o });
  return { call, cert, key, serverId: info.serverId as string, vaultId: info.vault.id as string };
}

/** The region's copy of a server's repository, as the vault's operator sees it. */
function regionRepo(v: TestVault, vaultId: string, serverId: string) {
  return repoStore(new FileStore(join(v.dir, 'regions', 'local')), vaultId, serverId);
}

async function everyFile(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

test('a second server restores the first one with its passphrase alone, and nothing else gets in', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  await ok(['vault', 'create', 'other', '--region', 'local'], v.env);
  const web = await register(v, home, 'prod', 'web1');
  const fresh = await register(v, home, 'prod', 'newbox');
  const stranger = await register(v, home, 'other', 'elsewhere');

  const src = join(home, 'src');
  await makeTree(src, { smallFiles: 150, largeFileBytes: 3 * MiB, seed: 7 });
  const init = await runCli(['init'], web.env);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stderr, /neither the vault nor anyone else can recover/);
  const backup = await ok(['backup', src], web.env);

  // The fresh machine, with the first server's passphrase (and nothing else of it).
  const withWebPass = { ...fresh.env, OFFSITE_PASSWORD_FILE: web.passFile };
  const listed = await ok(['snapshots', '--from-server', 'web1'], withWebPass);
  assert.deepEqual(
    listed.map((s: { id: string }) => s.id),
    [backup.id],
  );
  const target = join(home, 'restored');
  await ok(['restore', 'latest', '--from-server', 'web1', '--target', target], withWebPass);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);

  // Its own passphrase does not open the other server's key.
  const wrong = await runCli(['snapshots', '--from-server', 'web1'], fresh.env);
  assert.equal(wrong.code, 12, wrong.stderr);
  // A server of another vault is not there at all, whatever the passphrase.
  const away = await runCli(['snapshots', '--from-server', 'web1'], {
    ...stranger.env,
    OFFSITE_PASSWORD_FILE: web.passFile,
  });
  assert.equal(away.code, 1);
  assert.match(away.stderr, /has no server named "web1"/);

  // On the wire.
  const newbox = await asAgent(v, fresh);
  const webIds = await asAgent(v, web);
  const elsewhere = await asAgent(v, stranger);
  const region = regionRepo(v, webIds.vaultId, webIds.serverId);
  const unlocked = await Repository.open(region, web.passphrase);
  const token = restoreAccessToken(unlocked.keys.master);
  const [snapshotName] = (await collect(region.list('snapshots/'))).map((o) => o.name);
  const [packName] = (await collect(region.list('data/'))).map((o) => o.name);
  const base = '/v1/agent/servers/web1/repo/objects';
  const access = (value: string) => ({ headers: { 'x-offsite-restore-access': value } });

  assert.equal((await newbox.call(`${base}/config`)).status, 200, 'config is open to the vault');
  const keys = await newbox.call(`${base}?prefix=keys/`);
  assert.equal(keys.status, 200);
  assert.equal(keys.json().objects.length, 1);

  for (const path of [`${base}/${snapshotName}`, `${base}?prefix=snapshots/`, `${base}/restore-access`]) {
    const none = await newbox.call(path);
    assert.equal(none.status, 401, path);
    assert.equal(none.json().error, 'RESTORE_ACCESS_REQUIRED');
    const bad = await newbox.call(path, access(randomBytes(32).toString('hex')));
    assert.equal(bad.status, 401, path);
    assert.equal(bad.json().error, 'RESTORE_ACCESS_DENIED');
    const garbage = await newbox.call(path, access('not hex at all'));
    assert.equal(garbage.json().error, 'RESTORE_ACCESS_DENIED');
    assert.equal((await newbox.call(path, access(token))).status, 200, path);
  }
  const ranged = await newbox.call(`${base}/${packName}`, {
    headers: { ...access(token).headers, range: 'bytes=0-15' },
  });
  assert.equal(ranged.status, 206);

  for (const server of ['web1', webIds.serverId]) {
    const refused = await elsewhere.call(`/v1/agent/servers/${server}/repo/objects/config`, access(token));
    assert.equal(refused.status, 404);
    assert.equal(refused.json().error, 'SERVER_NOT_FOUND');
  }

  const packBefore = await region.get(packName!);
  const namesBefore = (await collect(region.list(''))).map((o) => o.name);
  for (const method of ['PUT', 'DELETE']) {
    for (const name of [packName, 'config', 'keys/x', 'sessions/s1', 'restore-access']) {
      const r = await newbox.call(`${base}/${name}`, {
        method,
        ...access(token),
        ...(method === 'PUT' ? { body: 'overwrite', headers: { 'x-offsite-restore-access': token } } : {}),
      });
      assert.equal(r.status, 403, `${method} ${name}`);
      assert.equal(r.json().error, 'FORBIDDEN');
    }
  }
  assert.ok((await region.get(packName!)).equals(packBefore), 'the pack is unchanged');
  assert.deepEqual(
    (await collect(region.list(''))).map((o) => o.name),
    namesBefore,
  );

  // The store the agent restores with refuses writes too, whatever it is asked.
  const otherStore = new HttpBlobStore({
    url: v.server.url,
    caPem: v.server.caPem,
    certPem: newbox.cert,
    keyPem: newbox.key,
    otherServer: 'web1',
    headers: () => ({ 'x-offsite-restore-access': token }),
  });
  t.after(() => otherStore.close());
  await assert.rejects(otherStore.put('data/zz/new', Buffer.from('x')), (e: unknown) => {
    return e instanceof AuthError && e.code === 'FORBIDDEN';
  });
  await assert.rejects(otherStore.delete('sessions/anything'), AuthError);

  // The vault never received the passphrase, and keeps neither it nor the token anywhere.
  const secrets = [web.passphrase, token, Buffer.from(token, 'hex').toString('base64')];
  const files = [...(await everyFile(join(v.dir, 'data'))), ...(await everyFile(join(v.dir, 'regions')))];
  assert.ok(files.length > 10);
  for (const file of files) {
    const bytes = await readFile(file);
    for (const secret of [...secrets.map((s) => Buffer.from(s)), Buffer.from(token, 'hex')]) {
      assert.equal(bytes.indexOf(secret), -1, `${file} holds a secret`);
    }
  }
  const logs = JSON.stringify(v.logs);
  for (const secret of secrets) assert.ok(!logs.includes(secret), 'the request log holds a secret');
});

test('restore access is published by any later command when an older repository lacks it', async (t) => {
  const v = await startTestVault(t);
  const home = await tempDir(t, 'offsite-agents-');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await register(v, home, 'prod', 'web1');
  const fresh = await register(v, home, 'prod', 'newbox');
  await ok(['init'], web.env);
  const ids = await asAgent(v, web);
  const region = regionRepo(v, ids.vaultId, ids.serverId);
  // As a repository made before restore access existed: the vault's operator removes it.
  await region.delete('restore-access');
  const withWebPass = { ...fresh.env, OFFSITE_PASSWORD_FILE: web.passFile };
  const before = await runCli(['snapshots', '--from-server', 'web1'], withWebPass);
  assert.equal(before.code, 1);
  assert.match(before.stderr, /has not published its restore access/);
  await ok(['snapshots'], web.env);
  assert.notEqual(await region.head('restore-access'), null);
  assert.deepEqual(await ok(['snapshots', '--from-server', 'web1'], withWebPass), []);
});

// Geo-redundancy end to end: a vault whose region is Azure Blob (Azurite, started here) and
// whose secondary is a folder. An agent backs up; replication copies the vault to the
// secondary and the lag drops to zero; then a restore runs (throttled, so it lasts) and
// Azurite is stopped in the middle of it: the restore completes from the secondary and the
// tree matches, while writes are refused with PRIMARY_UNAVAILABLE and touch nothing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type LogEntry, startServer } from '../src/server/index.ts';
import { type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { type BlobStore, openStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault } from './helpers/vault.ts';

const MiB = 1024 * 1024;

let azurite: Azurite;

before(async () => {
  azurite = await startAzurite();
  Object.assign(process.env, azurite.env);
});
after(async () => {
  await azurite?.stop();
});

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function refused(args: string[], env: Record<string, string>, code: string) {
  const r = await runCli([...args, '--json'], env);
  assert.notEqual(r.code, 0, `offsite ${args.join(' ')} should fail`);
  assert.equal(lastJson(r).error, code, r.stderr);
}

async function listing(store: BlobStore, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const o of store.list(prefix)) found.set(o.name, o.size);
  return found;
}

/** Incompressible files, so the backup makes several packs and the restore reads each. */
async function bigTree(root: string): Promise<void> {
  await makeTree(root, { smallFiles: 40, largeFileBytes: MiB, seed: 7 });
  await mkdir(join(root, 'blobs'), { recursive: true });
  for (let i = 0; i < 6; i++) await writeFile(join(root, 'blobs', `b${i}`), randomBytes(8 * MiB));
}

/** True for the log line of an answered read of pack data by an agent. */
function packRead(e: LogEntry): boolean {
  return (
    e.msg === 'request' &&
    e.method === 'GET' &&
    String(e.path).includes('/objects/data/') &&
    (e.status === 200 || e.status === 206)
  );
}

test('a restore completes from the secondary region when the primary is stopped mid-restore', async (t) => {
  const dir = await tempDir(t, 'offsite-geo-');
  const primaryUrl = azurite.url(await azurite.newContainer());
  const secondaryUrl = `file://${join(dir, 'west')}`;
  await mkdir(join(dir, 'west'));
  const logs: LogEntry[] = [];
  let stopping: Promise<void> | undefined;
  let readsBeforeStop = 0;
  let restoring = false;
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [
      { name: 'eu-north', url: primaryUrl },
      { name: 'eu-west', url: secondaryUrl },
    ],
    background: false,
    log: (e) => {
      logs.push(e);
      // Pull the primary away as soon as the restore has read its first pack data.
      if (restoring && !stopping && packRead(e)) {
        readsBeforeStop = logs.filter(packRead).length;
        stopping = azurite.stop();
      }
    },
  });
  t.after(() => server.close());
  const admin = {
    OFFSITE_SERVER: server.url,
    OFFSITE_CA_CERT: server.files.caCert,
    OFFSITE_TOKEN: (await readFile(server.files.adminToken, 'utf8')).trim(),
  };

  const vault = await ok(
    ['vault', 'create', 'prod', '--region', 'eu-north', '--secondary-region', 'eu-west'],
    admin,
  );
  assert.equal(vault.secondaryRegion, 'eu-west');
  await refused(['vault', 'set', 'prod', '--secondary-region', 'eu-north'], admin, 'SECONDARY_IS_PRIMARY');
  await refused(['vault', 'set', 'prod', '--secondary-region', 'nowhere'], admin, 'UNKNOWN_REGION');

  await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
  const agentDir = join(dir, 'agent');
  const agent = { OFFSITE_AGENT_DIR: agentDir, OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'a passphrase for two regions\n');
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agent);
  await ok(['init'], agent);
  const src = join(dir, 'src');
  await bigTree(src);
  await ok(['backup', src], agent);

  const behind = (await ok(['vault', 'show', 'prod'], admin)).replication;
  assert.equal(behind.checkedAt, null, 'no replication cycle has run yet');
  assert.ok(behind.pendingObjects >= 3, `the packs are pending: ${JSON.stringify(behind)}`);
  assert.ok(behind.pendingBytes >= 48 * MiB);

  await server.background.runNow('replication');
  const synced = (await ok(['vault', 'show', 'prod'], admin)).replication;
  assert.deepEqual(
    [synced.pendingObjects, synced.pendingBytes, synced.oldestPendingAt],
    [0, 0, null],
    JSON.stringify(synced),
  );
  assert.notEqual(synced.syncedAt, null);
  assert.deepEqual(synced.problems, []);
  const prefix = `${vault.id}/`;
  const onSecondary = await listing(openStore(secondaryUrl), prefix);
  assert.deepEqual(
    onSecondary,
    await listing(openStore(primaryUrl), prefix),
    'the secondary holds the same objects',
  );

  await ok(
    [
      'agent',
      'throttle',
      '--work-hours',
      '00:00-23:59',
      '--work-days',
      'daily',
      '--work-rate',
      '8MiB/s',
      '--off-rate',
      '8MiB/s',
    ],
    agent,
  );
  const target = join(dir, 'restored');
  restoring = true;
  const restore = await runCli(['restore', 'latest', '--target', target, '--json'], agent);
  await stopping;
  assert.equal(restore.code, 0, restore.stderr);
  assert.ok(stopping, 'the primary was stopped during the restore');
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
  const readsAfterStop = logs.filter(packRead).length - readsBeforeStop;
  assert.ok(readsAfterStop > 0, 'pack data was read after the primary stopped: from the secondary');
  const outage = (await ok(['vault', 'show', 'prod'], admin)).replication;
  assert.notEqual(outage.primaryUnreachableSince, null, 'the vault says its region is unreachable');

  // Writes never go to the secondary: an upload waits for the primary, with a clear error.
  const body = Buffer.from('a new session');
  const put = await https(server.caPem, `${server.url}/v1/agent/repo/objects/sessions/after-outage`, {
    method: 'PUT',
    cert: await readFile(join(agentDir, 'client.pem'), 'utf8'),
    key: await readFile(join(agentDir, 'client-key.pem'), 'utf8'),
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'x-offsite-sha256': createHash('sha256').update(body).digest('hex'),
    },
    body,
  });
  assert.equal(put.status, 503, put.text);
  assert.equal(put.json().error, 'PRIMARY_UNAVAILABLE');
  assert.deepEqual(await listing(openStore(secondaryUrl), prefix), onSecondary, 'the secondary is unchanged');
});

test('an owner sets, changes and clears the secondary region; the vault record carries it', async (t) => {
  const v = await startTestVault(t, { regions: ['a', 'b', 'c'] });
  await ok(['vault', 'create', 'prod', '--region', 'a'], v.env);
  const shown = await runCli(['vault', 'show', 'prod'], v.env);
  assert.match(shown.stdout, /^secondary region: none$/m);

  const contributor = await v.call('/v1/tokens', {
    method: 'POST',
    body: JSON.stringify({ name: 'ci', role: 'contributor' }),
  });
  const change = { method: 'PATCH', body: JSON.stringify({ secondaryRegion: 'b' }) };
  const denied = await v.call('/v1/vaults/prod', { ...change, token: contributor.json().token });
  assert.equal(denied.status, 403, 'only an owner changes the secondary region');

  const set = await ok(['vault', 'set', 'prod', '--secondary-region', 'b'], v.env);
  assert.equal(set.secondaryRegion, 'b');
  const text = await runCli(['vault', 'show', 'prod'], v.env);
  assert.match(text.stdout, /^secondary region: b$/m);
  assert.match(text.stdout, /^ {2}last checked: {3}never$/m);
  const moved = await ok(['vault', 'set', 'prod', '--secondary-region', 'c'], v.env);
  assert.equal(moved.secondaryRegion, 'c');
  const region = openStore(`file://${join(v.dir, 'regions', 'a')}`);
  const records = [...(await listing(region, `${moved.id}/vault/`)).keys()].sort();
  const newest = JSON.parse((await region.get(records.at(-1)!)).toString());
  assert.equal(newest.vault.secondaryRegion, 'c', 'the record in storage has the change');

  const cleared = await ok(['vault', 'set', 'prod', '--no-secondary-region'], v.env);
  assert.equal(cleared.secondaryRegion, null);
  assert.equal((await ok(['vault', 'show', 'prod'], v.env)).replication, null);
  const both = await runCli(
    ['vault', 'set', 'prod', '--secondary-region', 'b', '--no-secondary-region'],
    v.env,
  );
  assert.equal(both.code, 1);
  assert.match(both.stderr, /set needs one of --secondary-region S or --no-secondary-region/);
  const bad = await v.call('/v1/vaults/prod', { method: 'PATCH', body: JSON.stringify({ region: 'b' }) });
  assert.deepEqual([bad.status, bad.json().error], [400, 'BAD_FIELD']);
});

// Promoting the secondary region after losing the primary. The primary is Azure Blob
// (an Azurite started for each test, then stopped: the lost region), the secondary a
// folder. Promotion reads only the secondary; it is refused while the secondary lacks
// recovery points the catalog knows (saying how many), unless forced; afterwards backups
// and restores use the promoted region, the lost points are gone from the catalog, and the
// agent stores again the data that was lost.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { startServer } from '../src/server/index.ts';
import { startAzurite } from '../src/storage/azure/test-server.ts';
import { type BlobStore, openStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function names(store: BlobStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const o of store.list(prefix)) found.push(o.name);
  return found;
}

/** A vault in eu-north (Azurite) with eu-west (a folder) as secondary, and a registered agent. */
async function setUp(t: TestContext) {
  const azurite = await startAzurite();
  t.after(() => azurite.stop());
  Object.assign(process.env, azurite.env);
  const dir = await tempDir(t, 'offsite-promote-');
  const primaryUrl = azurite.url(await azurite.newContainer());
  const secondaryUrl = `file://${join(dir, 'west')}`;
  await mkdir(join(dir, 'west'));
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [
      { name: 'eu-north', url: primaryUrl },
      { name: 'eu-west', url: secondaryUrl },
    ],
    background: false,
    log: () => {},
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
  await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
  const agent = { OFFSITE_AGENT_DIR: join(dir, 'agent'), OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'a passphrase for a promoted region\n');
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agent);
  await ok(['init'], agent);
  const src = join(dir, 'src');
  await makeTree(src, { smallFiles: 30, largeFileBytes: 1024 * 1024, seed: 11 });
  return { azurite, dir, server, admin, agent, src, vaultId: vault.id as string, secondaryUrl };
}

async function restoreMatches(agent: Record<string, string>, src: string, target: string) {
  await ok(['restore', 'latest', '--target', target], agent);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
}

test('a caught-up secondary is promoted after the primary is lost; backups and restores use it', async (t) => {
  const s = await setUp(t);
  await ok(['backup', s.src], s.agent);
  await s.server.background.runNow('replication');
  await s.azurite.stop();

  const token = await https(s.server.caPem, `${s.server.url}/v1/tokens`, {
    method: 'POST',
    token: s.admin.OFFSITE_TOKEN,
    body: JSON.stringify({ name: 'ops', role: 'operator' }),
  });
  const byOperator = await https(s.server.caPem, `${s.server.url}/v1/vaults/prod/promote-secondary`, {
    method: 'POST',
    token: token.json().token,
    body: '{}',
  });
  assert.equal(byOperator.status, 403, 'only an owner promotes');

  const promoted = await ok(['vault', 'promote-secondary', 'prod'], s.admin);
  assert.deepEqual(
    [promoted.vault.region, promoted.vault.secondaryRegion, promoted.previousRegion, promoted.forced],
    ['eu-west', null, 'eu-north', false],
  );
  assert.deepEqual([promoted.lostPoints, promoted.lostPacks], [0, 0]);
  const shown = await ok(['vault', 'show', 'prod'], s.admin);
  assert.deepEqual([shown.region, shown.replication], ['eu-west', null]);
  const again = await runCli(['vault', 'promote-secondary', 'prod', '--json'], s.admin);
  assert.equal(lastJson(again).error, 'NO_SECONDARY_REGION');

  await restoreMatches(s.agent, s.src, join(s.dir, 'restored-1'));
  await writeFile(join(s.src, 'after-promotion.bin'), randomBytes(300_000));
  await ok(['backup', s.src], s.agent);
  await restoreMatches(s.agent, s.src, join(s.dir, 'restored-2'));
  const west = openStore(s.secondaryUrl);
  const records = await names(west, `${s.vaultId}/vault/`);
  const newest = JSON.parse((await west.get(records.sort().at(-1)!)).toString());
  assert.equal(newest.vault.region, 'eu-west', 'the vault record in the new region says where it lives');
});

test('a secondary that is behind is refused with what would be lost, and --force accepts the loss', async (t) => {
  const s = await setUp(t);
  await ok(['backup', s.src], s.agent);
  await s.server.background.runNow('replication');
  // A pack copy lost from the secondary while its index file is there: agents would
  // take its blobs as stored, unless told otherwise.
  const west = openStore(s.secondaryUrl);
  const packs = (await names(west, `${s.vaultId}/servers/`)).filter((n) => n.includes('/repo/data/'));
  assert.ok(packs.length > 0);
  await west.delete(packs[0]!);
  await writeFile(join(s.src, 'never-replicated.bin'), randomBytes(2 * 1024 * 1024));
  await ok(['backup', s.src], s.agent);
  const before = await ok(['vault', 'points', 'prod'], s.admin);
  await s.azurite.stop();

  const refused = await runCli(['vault', 'promote-secondary', 'prod'], s.admin);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /vault prod: the secondary region "eu-west" is not caught up: 2 recovery points and [2-9]\d* packs \(\d+ bytes\) would be missing/,
  );
  assert.match(refused.stderr, /--force/);
  assert.equal((await ok(['vault', 'show', 'prod'], s.admin)).region, 'eu-north', 'nothing changed');

  const forced = await ok(['vault', 'promote-secondary', 'prod', '--force'], s.admin);
  assert.equal(forced.vault.region, 'eu-west');
  assert.equal(forced.lostPoints, 2);
  assert.ok(forced.lostPacks >= 1 && forced.lostBytes >= 2 * 1024 * 1024, JSON.stringify(forced));
  const after = await ok(['vault', 'points', 'prod'], s.admin);
  assert.equal(after.points.length, before.points.length - 2, 'the lost points are gone from the catalog');

  // The agent's index (and its cache) still name the lost packs; the vault's gc marker
  // makes it store that data again, and the new copies are what the point names, so the
  // first backup in the promoted region commits.
  await ok(['backup', s.src], s.agent);
  await restoreMatches(s.agent, s.src, join(s.dir, 'restored'));
  await ok(['check', '--read-data'], s.agent);
});

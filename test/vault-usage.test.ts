// Usage against storage, byte for byte, through real agent backups, retention runs and
// garbage collections: what the vault reports as stored is what its region's folder holds
// at every step, and the agent's repository stays whole while the vault deletes.
import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastJson, runCli } from './helpers/cli.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree, mutateTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const DAY = 86_400_000;

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    total += e.isDirectory() ? await bytesOnDisk(path) : (await stat(path)).size;
  }
  return total;
}

async function assertUsageMatchesDisk(v: TestVault, vaultId: string, step: string) {
  const usage = (await v.call('/v1/vaults/prod/usage')).json();
  const disk = await bytesOnDisk(join(v.dir, 'regions', 'local', vaultId));
  assert.equal(usage.storedBytes, disk, `${step}: reported ${usage.storedBytes}, on disk ${disk}`);
  return usage;
}

test('usage equals the bytes in storage through backups, retention and garbage collection', async (t) => {
  const v = await startTestVault(t);
  const vault = await ok(['vault', 'create', 'prod', '--region', 'local', '--soft-delete-days', '2'], v.env);
  await ok(
    ['vault', 'policy', 'set', 'prod', '--times', '02:00', '--daily', '1', '--time-zone', 'UTC'],
    v.env,
  );
  const file = join(v.dir, 'c.json');
  await ok(['vault', 'credentials', 'prod', '--out', file], v.env);
  const agent = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_PASSWORD_FILE: join(v.dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'usage test passphrase, long enough\n');
  await ok(['agent', 'register', '--credentials', file, '--name', 'web1'], agent);
  await ok(['init'], agent);
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 100, largeFileBytes: 3 * 1024 * 1024, seed: 21 });
  await assertUsageMatchesDisk(v, vault.id, 'empty repository');
  for (let i = 0; i < 3; i++) {
    if (i > 0) await mutateTree(src, 0.3, 100 + i);
    await ok(['backup', src], agent);
    await assertUsageMatchesDisk(v, vault.id, `backup ${i + 1}`);
  }

  await v.server.background.runNow('retention');
  const points = await ok(['vault', 'points', 'prod', '--all'], v.env);
  const states = points.points.map((p: { state: string }) => p.state).sort();
  assert.deepEqual(states, ['active', 'soft-deleted', 'soft-deleted'], 'daily 1 keeps the newest of the day');
  const held = await assertUsageMatchesDisk(v, vault.id, 'after soft delete');

  v.clock.advance(2 * DAY + 1000);
  await v.server.background.runNow('retention');
  await v.server.background.runNow('gc');
  await assertUsageMatchesDisk(v, vault.id, 'after condemning');
  v.clock.advance(DAY + 1000);
  await v.server.background.runNow('gc');
  const collected = await assertUsageMatchesDisk(v, vault.id, 'after garbage collection');
  assert.ok(collected.storedBytes < held.storedBytes, 'garbage collection freed the older points’ data');

  // The agent's repository is still whole: check reads every byte, the latest point restores.
  await ok(['check', '--read-data'], agent);
  const target = join(v.dir, 'restored');
  await ok(['restore', 'latest', '--target', target], agent);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
  await ok(['backup', src], agent);
  await assertUsageMatchesDisk(v, vault.id, 'a backup after garbage collection');
});

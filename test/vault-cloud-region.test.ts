// A vault whose region is object storage: Azure Blob (Azurite) and S3 (s3rver), both
// started by the test. An agent backs up into the vault and restores; the data sits in
// the container or bucket under the vault's prefix, and usage counts exactly it.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../src/server/index.ts';
import { type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { openStore } from '../src/storage/index.ts';
import { type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

let azurite: Azurite;
let s3: S3rver;

before(async () => {
  [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
  // The vault server reads region credentials from its environment, as in production.
  Object.assign(process.env, azurite.env, s3.env);
});
after(async () => {
  await Promise.all([azurite?.stop(), s3?.stop()]);
});

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

const backends = [
  { name: 'Azure Blob (Azurite)', region: async () => azurite.url(await azurite.newContainer()) },
  { name: 'S3 (s3rver)', region: async () => s3.url(await s3.newBucket()) },
];

describe('a vault in an object-storage region', () => {
  for (const backend of backends) {
    it(`backs up and restores through ${backend.name}, and counts usage byte for byte`, async (t) => {
      const dir = await tempDir(t, 'offsite-cloud-vault-');
      const regionUrl = await backend.region();
      const server = await startServer({
        dataDir: join(dir, 'data'),
        listen: '127.0.0.1:0',
        regions: [{ name: 'eu-north', url: regionUrl }],
        log: () => {},
        background: false,
      });
      t.after(() => server.close());
      const admin = {
        OFFSITE_SERVER: server.url,
        OFFSITE_CA_CERT: server.files.caCert,
        OFFSITE_TOKEN: (await readFile(server.files.adminToken, 'utf8')).trim(),
      };
      const vault = await ok(['vault', 'create', 'prod', '--region', 'eu-north'], admin);
      await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
      const agent = { OFFSITE_AGENT_DIR: join(dir, 'agent'), OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
      await writeFile(agent.OFFSITE_PASSWORD_FILE, 'a passphrase for the cloud region\n');
      await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agent);
      await ok(['init'], agent);
      const src = join(dir, 'src');
      await makeTree(src, { smallFiles: 80, largeFileBytes: 2 * 1024 * 1024, seed: 41 });
      await ok(['backup', src], agent);
      const target = join(dir, 'restored');
      await ok(['restore', 'latest', '--target', target], agent);
      assert.deepEqual(await compareTrees(src, join(target, src)), []);

      let stored = 0;
      let packs = 0;
      for await (const o of openStore(regionUrl).list(`${vault.id}/`)) {
        stored += o.size;
        if (o.name.includes('/repo/data/')) packs++;
      }
      assert.ok(packs > 0, 'the packs are in the container or bucket');
      const usage = await ok(['vault', 'usage', 'prod'], admin);
      assert.equal(usage.storedBytes, stored);
    });
  }
});

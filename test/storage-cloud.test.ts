// Repositories on Azure Blob Storage and S3, as users meet them: the engine's backup and
// restore through openStore, and the `offsite` CLI with --repo azure://... and s3://...,
// against real servers (Azurite and s3rver) started here. Credentials travel only in
// the environment, and no secret may appear in any output.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backup, fastKdfParams, Repository, restore } from '../src/repo/index.ts';
import { AZURITE_KEY, type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { openStore } from '../src/storage/open.ts';
import { parseRegionUrl } from '../src/storage/region-url.ts';
import { type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { RetryStore } from '../src/storage/wrappers/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { TEST_PASSPHRASE } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

const MiB = 1024 * 1024;

let azurite: Azurite;
let s3: S3rver;
before(async () => {
  [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
});
after(() => Promise.all([azurite?.stop(), s3?.stop()]));

interface Backend {
  label: string;
  /** A URL of a fresh, empty container or bucket. */
  newUrl(): Promise<string>;
  env(): Record<string, string>;
  /** The secrets of env(), which must never be printed. */
  secrets(): string[];
  /** The environment with credentials the server refuses. */
  wrongEnv(): Record<string, string>;
}

const BACKENDS: Backend[] = [
  {
    label: 'Azure Blob Storage (Azurite)',
    newUrl: async () => azurite.url(await azurite.newContainer(), 'offsite/repo'),
    env: () => azurite.env,
    secrets: () => [AZURITE_KEY],
    wrongEnv: () => ({ AZURE_STORAGE_KEY: Buffer.from('not the key of this account').toString('base64') }),
  },
  {
    label: 'S3 (s3rver)',
    newUrl: async () => s3.url(await s3.newBucket(), 'offsite/repo'),
    env: () => s3.env,
    // s3rver's development secret is the word "S3RVER", which is also its key id and
    // appears in no message; the check is meaningful for the wrong-credentials case.
    secrets: () => [],
    // s3rver-main.ts checks the SigV4 signature, so a wrong secret is refused too.
    wrongEnv: () => ({
      AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG0',
      AWS_SECRET_ACCESS_KEY: 'wR0ng/SeCrEt/kEy',
    }),
  },
];

for (const backend of BACKENDS) {
  describe(`a repository on ${backend.label}`, () => {
    it('backs up and restores a realistic tree through the engine, identically', async (t) => {
      const dir = await tempDir(t);
      const src = join(dir, 'src');
      await makeTree(src, { smallFiles: 200, largeFileBytes: 12 * MiB, seed: 3 });
      const url = await backend.newUrl();
      const store = () => new RetryStore(openStore(url, backend.env()));
      await Repository.init(store(), TEST_PASSPHRASE, {
        kdf: fastKdfParams(),
        config: { packSize: 4 * MiB },
      });

      const repo = await Repository.open(store(), TEST_PASSPHRASE);
      await repo.loadIndex();
      const saved = await backup(repo, { paths: [src] });
      assert.deepEqual(saved.errors, []);

      const again = await Repository.open(store(), TEST_PASSPHRASE);
      await again.loadIndex();
      const target = join(dir, 'restored');
      const restored = await restore(again, { id: saved.id, snapshot: saved.snapshot }, { target });
      assert.deepEqual(restored.errors, []);
      assert.deepEqual(await compareTrees(src, join(target, src)), []);
      const packs = [];
      for await (const object of openStore(url, backend.env()).list('data/')) packs.push(object);
      assert.ok(packs.length >= 3, `${packs.length} packs stored`);
    });

    it('works from the CLI: init, backup, snapshots, restore with --repo URL', async (t) => {
      const dir = await tempDir(t);
      const src = join(dir, 'src');
      await mkdir(join(src, 'docs'), { recursive: true });
      await writeFile(join(src, 'docs', 'a.txt'), 'alpha\n'.repeat(5000));
      await writeFile(join(src, 'b.bin'), Buffer.alloc(300_000, 9));
      const url = await backend.newUrl();
      const env = { ...backend.env(), OFFSITE_PASSWORD: TEST_PASSPHRASE };
      const outputs: string[] = [];
      const run = async (args: string[]) => {
        const result = await runCli(args, env);
        outputs.push(result.stdout, result.stderr);
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        return result;
      };

      const created = lastJson(await run(['init', '--repo', url, '--json']));
      assert.equal(created.location, url);
      const first = lastJson(await run(['backup', '--repo', url, src, '--json']));
      assert.equal(first.snapshot.stats.filesNew, 2);
      const snapshots = lastJson(await run(['snapshots', '--repo', url, '--json']));
      assert.equal(snapshots.length, 1);
      const target = join(dir, 'out');
      await run(['restore', 'latest', '--repo', url, '--target', target]);
      assert.deepEqual(await compareTrees(src, join(target, src)), []);
      await run(['check', '--repo', url, '--read-data']);
      for (const output of outputs) {
        for (const secret of backend.secrets()) assert.ok(!output.includes(secret), 'a secret was printed');
      }
    });

    it('fails with a clear message and no secret when the credentials are refused', async () => {
      const url = await backend.newUrl();
      const wrong = backend.wrongEnv();
      const result = await runCli(['snapshots', '--repo', url], {
        ...wrong,
        OFFSITE_PASSWORD: TEST_PASSPHRASE,
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /(azure|s3):\/\/\S+ refused reading config: HTTP 403/);
      for (const secret of Object.values(wrong)) {
        if (!secret.startsWith('AKIA'))
          assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), result.stderr);
      }
    });

    it('is reachable as a server region (parseRegionUrl), credentials from the environment', async () => {
      const url = await backend.newUrl();
      const region = parseRegionUrl(`r1=${url}`, backend.env());
      assert.equal(region.url, url);
      const store = region.open();
      await store.put('vault/x.json', Buffer.from('{}'));
      assert.deepEqual(await store.head('vault/x.json'), { size: 2 });
      await assert.rejects(store.put('vault/x.json', Buffer.from('[]')), { code: 'OBJECT_EXISTS' });
    });
  });
}

describe('storage URLs on the command line', () => {
  it('refuses --repo URLs that carry a secret before touching anything, without printing it', async () => {
    for (const url of [
      'azure://devstoreaccount1/c01?sv=2022-11-02&sig=SeCrEtSiGnAtUrE',
      's3://AKIAEXAMPLE:SeCrEtSiGnAtUrE@bucket/repo',
    ]) {
      const result = await runCli(['init', '--repo', url], { OFFSITE_PASSWORD: TEST_PASSPHRASE });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /storage URLs never carry credentials/);
      assert.match(result.stderr, /AZURE_STORAGE_KEY|AWS_ACCESS_KEY_ID/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes('SeCrEtSiGnAtUrE'), result.stderr);
    }
  });

  it('says which variables to set when an Azure URL has no credentials', async () => {
    const result = await runCli(['snapshots', '--repo', azurite.url('c01')], {
      OFFSITE_PASSWORD: TEST_PASSPHRASE,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no credentials for the Azure storage account "devstoreaccount1"/);
    assert.match(result.stderr, /AZURE_STORAGE_KEY/);
  });
});

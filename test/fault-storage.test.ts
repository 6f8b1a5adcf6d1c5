// The region's storage answering errors: the vault's region is a real S3 server (s3rver)
// behind a proxy that injects the errors S3 really sends. With a fifth of the requests
// failing (503 SlowDown, 500 InternalError, and 500 after the write was done) backups and
// restores succeed through retries; with every pack upload refused (403 AccessDenied) the
// backup stops with a clear error, nothing is committed, earlier points still restore and
// the next backup succeeds once storage is healthy. No partial object is ever visible.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { lastJson, tempDir } from './helpers/cli.ts';
import { type FaultyS3Proxy, startFaultyS3Proxy } from './helpers/fault-s3-proxy.ts';
import { FAULT_PASSPHRASE, ok, partialObjects, startFaultVault } from './helpers/fault-vault.ts';
import { type ExpectedPoint, manifestOf, restoreEach } from './helpers/fault-verify.ts';

const MiB = 1024 * 1024;
let s3: S3rver;
let proxy: FaultyS3Proxy;
before(async () => {
  s3 = await startS3rver();
  proxy = await startFaultyS3Proxy(s3.endpoint, 5);
});
after(async () => {
  await proxy?.close();
  await s3?.stop();
});

test('region storage errors: retried when transient, a clean stop when not', {
  timeout: 10 * 60_000,
}, async (t) => {
  const dir = await tempDir(t, 'offsite-fault-storage-');
  const bucket = await s3.newBucket();
  const direct = s3.url(bucket);
  const regionUrl = direct.replace(s3.endpoint, proxy.endpoint);
  const v = await startFaultVault(t, dir, { regionUrl, packSize: MiB, serverEnv: s3.env });
  const src = join(dir, 'src');
  await mkdir(src);
  const points: ExpectedPoint[] = [];
  const addData = async (label: string) => {
    for (let f = 0; f < 3; f++) await writeFile(join(src, `${label}-${f}`), randomBytes(2 * MiB));
  };
  const backedUp = async (what: string) => {
    const r = await v.backup([src]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    points.push({ snapshotId: lastJson(r).id, root: src, manifest: await manifestOf(src) });
  };

  // A fifth of every request to the bucket fails, some after the write was done.
  proxy.setRule({ match: () => true, rate: 0.2, faults: ['slow-down', 'internal', 'internal-after'] });
  await addData('a');
  await backedUp('a backup while 20 % of storage requests fail');
  await addData('b');
  await backedUp('a second one');
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), [], 'restores through the faults');
  const transient = { ...proxy.injected };
  t.diagnostic(`transient faults injected: ${JSON.stringify(transient)} in ${proxy.requests} requests`);
  assert.ok(transient['slow-down'] + transient.internal >= 5, 'errors before the write really happened');
  assert.ok(transient['internal-after'] >= 1, 'lost replies after the write really happened');
  assert.equal(v.server5xx(), 0, 'the vault retried the region itself: no 5xx reached the agent');

  // Storage refuses every pack upload, for good.
  proxy.setRule({
    match: (m, p) => m === 'PUT' && p.includes('/repo/data/'),
    rate: 1,
    faults: ['access-denied'],
  });
  await addData('c');
  const refused = await v.backup([src]);
  assert.notEqual(refused.code, 0, 'the backup stops');
  assert.match(refused.stderr, /denied|permission|forbidden|storage/i, `a clear error: ${refused.stderr}`);
  t.diagnostic(`the agent stopped with: ${refused.stderr.trim().split('\n')[0]}`);
  proxy.setRule(undefined);
  const listed = await ok(['vault', 'points', 'prod'], v.admin);
  assert.equal(listed.points.length, 2, 'nothing committed by the refused backup');
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), [], 'earlier points still restore');

  await backedUp('the backup once storage is healthy');
  const { bad, checked } = await partialObjects(direct, s3.env);
  assert.deepEqual(bad, [], 'every object in the bucket hashes to its name');
  t.diagnostic(`${checked} objects verified straight from s3rver`);
  assert.equal((await ok(['vault', 'points', 'prod'], v.admin)).points.length, 3);
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), []);
});

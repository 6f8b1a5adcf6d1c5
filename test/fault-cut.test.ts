// Connections cut mid-upload by a TCP relay between the agent and the vault: a single cut
// is retried within the run; a network that cuts every long upload stops the backup with
// a clear error and commits nothing; once the network is healthy the next run resumes
// (uploads what was missing plus at most about one pack), nothing partial is ever visible
// in the region, and every committed point restores byte for byte.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/storage/index.ts';
import { lastJson, tempDir } from './helpers/cli.ts';
import { FAULT_PASSPHRASE, ok, packBytes, partialObjects, startFaultVault } from './helpers/fault-vault.ts';
import { type ExpectedPoint, manifestOf, restoreEach } from './helpers/fault-verify.ts';
import { TcpRelay } from './helpers/tcp-relay.ts';

const KiB = 1024;
const PACK_SIZE = 512 * KiB;
const NEW_DATA = 6 * 1024 * KiB;

test('connections cut mid-upload: retried, or a clear stop and a resume; nothing partial', {
  timeout: 10 * 60_000,
}, async (t) => {
  const dir = await tempDir(t, 'offsite-fault-cut-');
  let relay: TcpRelay | undefined;
  const v = await startFaultVault(t, dir, {
    packSize: PACK_SIZE,
    publicUrl: async (port) => {
      relay = new TcpRelay(port);
      await relay.listen();
      return `https://127.0.0.1:${relay.port}`;
    },
  });
  const cut = relay!;
  t.after(() => cut.close());
  const region = openStore(v.regionUrl);
  const src = join(dir, 'src');
  await mkdir(src);
  const points: ExpectedPoint[] = [];
  const addData = async (label: string) => {
    for (let f = 0; f < 3; f++) await writeFile(join(src, `${label}-${f}`), randomBytes(NEW_DATA / 3));
  };
  const committed = async (r: Awaited<ReturnType<typeof v.backup>>, what: string) => {
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    points.push({ snapshotId: lastJson(r).id, root: src, manifest: await manifestOf(src) });
  };

  await addData('a');
  await committed(await v.backup([src]), 'the first backup through the relay');
  assert.ok(cut.bytesUp > NEW_DATA, 'the agent really talks through the relay');

  // One connection dies 2 MiB into the uploads: the agent retries and finishes the run.
  await addData('b');
  let before = await packBytes(region);
  cut.cutOnceAfter(2 * 1024 * KiB);
  await committed(await v.backup([src]), 'a backup with one cut connection');
  assert.equal(cut.cuts, 1, 'the relay cut one connection');
  assert.ok((await packBytes(region)) - before <= NEW_DATA + PACK_SIZE + 64 * KiB, 'no large re-upload');

  // Every connection carrying more than 200 KiB is cut: no pack can get through.
  await addData('c');
  before = await packBytes(region);
  const pointsBefore = (await ok(['vault', 'points', 'prod'], v.admin)).points.length;
  cut.cutEachOver(200 * KiB);
  const failed = await v.backup([src]);
  assert.notEqual(failed.code, 0, 'the backup stops');
  assert.match(failed.stderr, /vault|connection|reset|reach|storage/i, `a clear error: ${failed.stderr}`);
  t.diagnostic(`the agent stopped with: ${failed.stderr.trim().split('\n')[0]}`);
  assert.ok(cut.cuts > 1, `connections were cut (${cut.cuts})`);
  assert.equal(
    (await ok(['vault', 'points', 'prod'], v.admin)).points.length,
    pointsBefore,
    'nothing committed',
  );
  assert.deepEqual((await partialObjects(v.regionUrl)).bad, [], 'no partial object after the cuts');

  // The network heals: the next run resumes.
  cut.heal();
  const afterFailure = await packBytes(region);
  await committed(await v.backup([src]), 'the backup after the network healed');
  const uploaded = (await packBytes(region)) - afterFailure;
  const missing = Math.max(0, NEW_DATA - (afterFailure - before));
  assert.ok(uploaded - missing <= PACK_SIZE + 64 * KiB, `uploaded ${uploaded} when ${missing} were missing`);

  const { bad, checked } = await partialObjects(v.regionUrl);
  assert.deepEqual(bad, [], 'every object in the region hashes to its name');
  t.diagnostic(`${checked} objects verified, ${cut.cuts} connections cut`);
  assert.equal((await ok(['vault', 'points', 'prod'], v.admin)).points.length, points.length);
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), []);
});

// The region's disk fills up during a backup (a real 48 MiB tmpfs): the backup stops with
// a clear "no space" error (507), nothing partial is committed or visible, earlier points
// still restore, and once space is freed the next backup succeeds and resumes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/storage/index.ts';
import { lastJson, tempDir } from './helpers/cli.ts';
import { FAULT_PASSPHRASE, ok, packBytes, partialObjects, startFaultVault } from './helpers/fault-vault.ts';
import { type ExpectedPoint, manifestOf, restoreEach } from './helpers/fault-verify.ts';

const MiB = 1024 * 1024;

/** Mounts a tmpfs of `size` at path; the reason it cannot, if it cannot (not root, no CAP_SYS_ADMIN). */
function mountTmpfs(path: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`;
  }
}

test('a full disk under the region: a clear error, nothing partial, resume once freed', {
  timeout: 10 * 60_000,
}, async (t) => {
  const dir = await tempDir(t, 'offsite-fault-disk-');
  // Outside dir: its removal must not meet the mount point.
  const mnt = await mkdtemp(join(tmpdir(), 'offsite-small-disk-'));
  const why = mountTmpfs(mnt, '48m');
  if (why) {
    await rm(mnt, { recursive: true });
    return t.skip(why);
  }
  // Someone else's data on the same disk, deleted later to free space.
  const filler = join(mnt, 'other-data');
  await writeFile(filler, Buffer.alloc(24 * MiB, 1));
  const v = await startFaultVault(t, dir, { regionUrl: `file://${join(mnt, 'region')}`, packSize: MiB });
  t.after(async () => {
    await v.kill();
    execFileSync('umount', [mnt]);
    await rm(mnt, { recursive: true });
  });
  const region = openStore(v.regionUrl);
  const src = join(dir, 'src');
  await mkdir(src);
  const points: ExpectedPoint[] = [];

  await writeFile(join(src, 'first'), randomBytes(8 * MiB));
  const first = await v.backup([src]);
  assert.equal(first.code, 0, first.stderr);
  points.push({ snapshotId: lastJson(first).id, root: src, manifest: await manifestOf(src) });

  // 20 MiB of new data into the ~15 MiB left.
  for (let f = 0; f < 4; f++) await writeFile(join(src, `second-${f}`), randomBytes(5 * MiB));
  const full = await v.backup([src]);
  assert.notEqual(full.code, 0, 'the backup fails on a full disk');
  assert.match(full.stderr, /no space left/i, `a clear error: ${full.stderr}`);
  t.diagnostic(`the agent stopped with: ${full.stderr.trim().split('\n')[0]}`);
  const listed = await ok(['vault', 'points', 'prod'], v.admin);
  assert.equal(listed.points.length, 1, 'nothing committed by the failed backup');
  assert.deepEqual((await partialObjects(v.regionUrl)).bad, [], 'no partial object on the full disk');
  const leftovers = await readdir(join(mnt, 'region', '.tmp')).catch(() => []);
  t.diagnostic(`temporary files left in the region's .tmp after the failure: ${leftovers.length}`);
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), [], 'the earlier point restores');

  await rm(filler);
  const stored = await packBytes(region);
  const resumed = await v.backup([src]);
  assert.equal(resumed.code, 0, `the backup succeeds once space is freed: ${resumed.stderr}`);
  points.push({ snapshotId: lastJson(resumed).id, root: src, manifest: await manifestOf(src) });
  const uploaded = (await packBytes(region)) - stored;
  t.diagnostic(`the resumed backup uploaded ${(uploaded / MiB).toFixed(1)} MiB of 20 MiB new data`);
  assert.ok(uploaded < 20 * MiB + MiB, 'no re-upload of what the failed run stored');

  assert.deepEqual((await partialObjects(v.regionUrl)).bad, []);
  assert.equal((await ok(['vault', 'points', 'prod'], v.admin)).points.length, 2);
  assert.deepEqual(await restoreEach(v.agent, FAULT_PASSPHRASE, points), []);
});

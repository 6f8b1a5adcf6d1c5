// Pre- and post-backup hooks through the real CLI: the pre hook runs first and its
// failure or timeout (its whole process group killed) stops the backup; the post hook
// always runs, told the outcome; a failing post hook after a good backup exits 3.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withBackupHooks } from '../src/agent/hooks.ts';
import { listSnapshots } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, TEST_PASSPHRASE } from './helpers/repo.ts';

const env = { OFFSITE_PASSWORD: TEST_PASSPHRASE };

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const { path: repo } = await makeRepo(dir);
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'data.txt'), 'some data');
  const postEnv = join(dir, 'post.env');
  // The post hook records what it was told.
  const postHook = `env | grep '^OFFSITE_' | sort > ${postEnv}`;
  const backup = (args: string[]) => runCli(['backup', '--repo', repo, '--json', ...args], env);
  const told = async () =>
    Object.fromEntries(
      (await readFile(postEnv, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
  const snapshots = async () => listSnapshots(await reopen(repo));
  return { dir, repo, src, postHook, backup, told, snapshots };
}

/** Gone, or a zombie nobody has reaped yet: either way it no longer runs. */
async function stopped(pid: number): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || / Z /.test(stat)) return true;
    await sleep(20);
  }
  return false;
}

test('the pre hook runs before the backup and the post hook after it, told the outcome', async (t) => {
  const s = await setup(t);
  const pre = `echo pre-output; echo made by the hook > ${join(s.src, 'frozen.txt')}`;
  const r = await s.backup([s.src, '--pre-hook', pre, '--post-hook', s.postHook]);
  assert.equal(r.code, 0, r.stderr);
  const result = lastJson(r);
  assert.equal(result.snapshot.stats.filesNew, 2, 'the file the pre hook made is in the snapshot');
  assert.match(r.stderr, /pre-output/, 'hook output goes to stderr');
  assert.ok(!r.stdout.includes('pre-output'), 'stdout keeps the result only');
  const told = await s.told();
  assert.equal(told.OFFSITE_BACKUP_STATUS, 'succeeded');
  assert.equal(told.OFFSITE_SNAPSHOT_ID, result.id);
  assert.equal(told.OFFSITE_HOOK, 'post');

  const failed = await s.backup([join(s.dir, 'no-such-path'), '--post-hook', s.postHook]);
  assert.equal(failed.code, 1);
  assert.equal((await s.told()).OFFSITE_BACKUP_STATUS, 'failed');
  assert.match((await s.told()).OFFSITE_BACKUP_ERROR, /does not exist/);
});

test('a failing pre hook stops the backup; the post hook still runs', async (t) => {
  const s = await setup(t);
  const r = await s.backup([
    s.src,
    '--pre-hook',
    'echo cannot freeze >&2; exit 2',
    '--post-hook',
    s.postHook,
  ]);
  assert.equal(r.code, 1);
  const error = lastJson(r);
  assert.equal(error.error, 'PRE_HOOK_FAILED');
  assert.match(error.message, /exited with code 2: cannot freeze/);
  assert.deepEqual(await s.snapshots(), []);
  assert.equal((await s.told()).OFFSITE_BACKUP_STATUS, 'failed');
});

test('a pre hook past its timeout is killed with its process group, and the backup does not run', async (t) => {
  const s = await setup(t);
  const pids = join(s.dir, 'pids');
  // A child in the background, and one that ignores SIGTERM: both belong to the hook.
  const hook = `sleep 300 & echo $! > ${pids}; (trap '' TERM; sleep 301) & echo $! >> ${pids}; wait`;
  const r = await s.backup([s.src, '--pre-hook', hook, '--hook-timeout', '1s']);
  assert.equal(r.code, 1);
  assert.equal(lastJson(r).error, 'PRE_HOOK_TIMEOUT');
  for (const pid of (await readFile(pids, 'utf8')).trim().split('\n').map(Number)) {
    assert.ok(await stopped(pid), `the hook's child ${pid} was killed`);
  }
  assert.deepEqual(await s.snapshots(), []);
});

test('a failing post hook after a good backup exits 3 and keeps the snapshot', async (t) => {
  const s = await setup(t);
  const r = await s.backup([s.src, '--post-hook', 'exit 5']);
  assert.equal(r.code, 3);
  const result = lastJson(r);
  assert.equal(result.postHookError.error, 'POST_HOOK_FAILED');
  assert.match(r.stderr, /post-backup hook exited with code 5/);
  assert.equal((await s.snapshots()).length, 1);
  assert.equal((await s.snapshots())[0]!.id, result.id);
});

test('withBackupHooks never throws: outcomes and hook failures come back side by side', async () => {
  const order: string[] = [];
  const timedOut = await withBackupHooks({ post: 'sleep 30', timeoutMs: 200 }, async () => {
    order.push('body');
    return 42;
  });
  assert.deepEqual({ ok: timedOut.ok, value: timedOut.ok && timedOut.value }, { ok: true, value: 42 });
  assert.equal(timedOut.postHookError?.code, 'POST_HOOK_TIMEOUT');
  const refused = await withBackupHooks({ pre: 'exit 1', timeoutMs: 5000 }, async () => {
    order.push('never');
  });
  assert.equal(refused.ok, false);
  assert.deepEqual(order, ['body']);
});

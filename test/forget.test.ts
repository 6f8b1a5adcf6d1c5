// `offsite forget` as a user meets it: snapshots made at chosen times through the library
// (the CLI has no clock option), then the real CLI choosing, listing and removing them.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backup } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, TEST_PASSPHRASE } from './helpers/repo.ts';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(src);
  const { path } = await makeRepo(dir);
  const repo = await reopen(path);
  const env = { OFFSITE_REPOSITORY: path, OFFSITE_PASSWORD: TEST_PASSPHRASE, TZ: 'UTC' };
  /** A snapshot of src taken "at" `time`, with file.txt holding `content`. */
  const snapshotAt = async (time: string, content: string, hostname = 'web1') => {
    await writeFile(join(src, 'file.txt'), content);
    return (await backup(repo, { paths: [src], hostname, now: () => new Date(time) })).id;
  };
  const listed = async (): Promise<string[]> => {
    const result = await runCli(['snapshots', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    return lastJson(result)
      .map((s: { id: string }) => s.id)
      .sort();
  };
  return { dir, src, env, snapshotAt, listed };
}

describe('offsite forget', () => {
  it('applies --keep-daily per host and paths: a dry run first, then for real', async (t) => {
    const { dir, src, env, snapshotAt, listed } = await setup(t);
    const a = await snapshotAt('2024-05-01T09:00:00Z', 'a');
    const b = await snapshotAt('2024-05-02T09:00:00Z', 'b');
    const c = await snapshotAt('2024-05-02T18:00:00Z', 'c');
    const d = await snapshotAt('2024-05-03T09:00:00Z', 'd');
    const other = await snapshotAt('2024-05-01T09:00:00Z', 'other host', 'web2');
    const all = [a, b, c, d, other].sort();

    const dry = await runCli(['forget', '--keep-daily', '2', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = lastJson(dry);
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.removed, []);
    const ids = (entries: { id: string }[]) => entries.map((e) => e.id);
    assert.deepEqual(
      plan.groups.map((g: { host: string; paths: string[] }) => [g.host, g.paths]),
      [
        ['web1', [src]],
        ['web2', [src]],
      ],
    );
    const [web1, web2] = plan.groups;
    assert.deepEqual(ids(web1.keep), [d, c]);
    assert.deepEqual(
      web1.keep.map((k: { reasons: string[] }) => k.reasons),
      [['daily snapshot'], ['daily snapshot']],
    );
    assert.equal(web1.keep[0].time, '2024-05-03T09:00:00.000Z');
    assert.deepEqual(ids(web1.remove), [b, a]);
    assert.deepEqual(ids(web2.keep), [other]);
    assert.deepEqual(web2.remove, []);
    assert.deepEqual(await listed(), all, 'a dry run removes nothing');

    const text = await runCli(['forget', '--keep-daily', '2', '--dry-run'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /host web1, paths .*\nkeep 2 snapshots:/);
    assert.match(text.stdout, new RegExp(`${d.slice(0, 8)} +2024-05-03 09:00:00 +daily snapshot`));
    assert.match(text.stdout, /dry run: 2 snapshots would be removed; nothing was removed/);
    assert.deepEqual(await listed(), all);

    const real = await runCli(['forget', '--keep-daily', '2', '--json'], env);
    assert.equal(real.code, 0, real.stderr);
    const done = lastJson(real);
    assert.equal(done.dryRun, false);
    assert.deepEqual([...done.removed].sort(), [a, b].sort());
    assert.deepEqual(await listed(), [c, d, other].sort());

    for (const [id, content] of [
      [c, 'c'],
      [d, 'd'],
    ] as const) {
      const target = join(dir, `restored-${content}`);
      const restored = await runCli(['restore', id, '--target', target], env);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(await readFile(join(target, src, 'file.txt'), 'utf8'), content);
    }
    const check = await runCli(['check'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const again = await runCli(['forget', '--keep-daily', '2'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to remove/);
  });

  it('removes exactly the snapshots given by id (or id prefix)', async (t) => {
    const { env, snapshotAt, listed } = await setup(t);
    const a = await snapshotAt('2024-05-01T09:00:00Z', 'a');
    const b = await snapshotAt('2024-05-02T09:00:00Z', 'b');
    const c = await snapshotAt('2024-05-03T09:00:00Z', 'c');

    const dry = await runCli(['forget', a.slice(0, 8), c, '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(lastJson(dry).removed, []);
    assert.deepEqual(
      lastJson(dry).groups[0].remove.map((r: { id: string }) => r.id),
      [c, a],
    );
    assert.deepEqual(await listed(), [a, b, c].sort());

    const result = await runCli(['forget', a.slice(0, 8)], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`${a.slice(0, 8)} +2024-05-01 09:00:00 +web1`));
    assert.match(result.stdout, /removed 1 snapshot$/m);
    assert.deepEqual(await listed(), [b, c].sort());
  });

  it('refuses an unknown id with a clear message and removes nothing', async (t) => {
    const { env, snapshotAt, listed } = await setup(t);
    const a = await snapshotAt('2024-05-01T09:00:00Z', 'a');
    const unknown = a.startsWith('dead') ? 'beef' : 'dead';
    const result = await runCli(['forget', a, unknown], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`no snapshot has an id starting with ${unknown}`));
    const json = await runCli(['forget', unknown, '--json'], env);
    assert.equal(lastJson(json).error, 'SNAPSHOT_NOT_FOUND');
    assert.deepEqual(await listed(), [a]);

    const mixed = await runCli(['forget', a, '--keep-last', '1'], env);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /either snapshot ids or a --keep-\* policy/);
    assert.deepEqual(await listed(), [a]);
  });

  it('refuses an empty policy, before asking for the passphrase, and removes nothing', async (t) => {
    const { env, snapshotAt, listed } = await setup(t);
    const a = await snapshotAt('2024-05-01T09:00:00Z', 'a');
    for (const args of [['forget'], ['forget', '--keep-daily', '0'], ['forget', '--host', 'web1']]) {
      const result = await runCli(args, { OFFSITE_REPOSITORY: env.OFFSITE_REPOSITORY });
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /no retention policy given: refusing to remove every snapshot/);
    }
    const json = await runCli(['forget', '--json'], env);
    assert.equal(json.code, 1);
    assert.equal(lastJson(json).error, 'EMPTY_POLICY');
    const bad = await runCli(['forget', '--keep-within', '3w'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"3w" is not a duration/);
    assert.deepEqual(await listed(), [a]);
  });

  it('--prune runs prune after removing snapshots', async (t) => {
    const { env, snapshotAt, listed } = await setup(t);
    await snapshotAt('2024-05-01T09:00:00Z', 'a'.repeat(10_000));
    const b = await snapshotAt('2024-05-02T09:00:00Z', 'b'.repeat(10_000));
    const result = await runCli(['forget', '--keep-last', '1', '--prune', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = lastJson(result);
    assert.equal(out.removed.length, 1);
    assert.equal(typeof out.prune?.condemnedPacks, 'number');
    assert.deepEqual(await listed(), [b]);
    const check = await runCli(['check'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});

// The command line as a user meets it: real processes, real files, exit codes and messages.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lastJson, runCli, runCliAs, tempDir } from './helpers/cli.ts';

const PASS = 'correct horse battery staple';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  const src = join(dir, 'src');
  await mkdir(join(src, 'docs'), { recursive: true });
  await writeFile(join(src, 'docs', 'a.txt'), 'alpha\n'.repeat(1000));
  await writeFile(join(src, 'b.bin'), Buffer.alloc(5000, 7));
  await writeFile(join(src, 'skip.tmp'), 'temporary');
  const env = { OFFSITE_REPOSITORY: repo, OFFSITE_PASSWORD: PASS };
  return { dir, repo, src, env };
}

describe('offsite CLI', () => {
  it('refuses a passphrase shorter than 16 characters and creates nothing', async (t) => {
    const { repo } = await setup(t);
    const result = await runCli(['init', '--repo', repo], { OFFSITE_PASSWORD: 'short' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /at least 16 characters/);
    const missing = await runCli(['snapshots', '--repo', repo], { OFFSITE_PASSWORD: PASS });
    assert.equal(missing.code, 10);
  });

  it('exits 10 with a clear message when there is no repository', async (t) => {
    const { dir } = await setup(t);
    const result = await runCli(['snapshots', '--repo', join(dir, 'nothing')], { OFFSITE_PASSWORD: PASS });
    assert.equal(result.code, 10);
    assert.match(result.stderr, /there is no Offsite repository at .*nothing/);
    assert.match(result.stderr, /offsite init/);
  });

  it('exits 12 on a wrong passphrase, without echoing it', async (t) => {
    const { env } = await setup(t);
    assert.equal((await runCli(['init'], env)).code, 0);
    const wrong = 'this is not the passphrase';
    const result = await runCli(['snapshots'], { ...env, OFFSITE_PASSWORD: wrong });
    assert.equal(result.code, 12);
    assert.match(result.stderr, /wrong passphrase/);
    assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong));
  });

  it('init --generate-passphrase prints a passphrase that opens the repository', async (t) => {
    const { repo } = await setup(t);
    const created = await runCli(['init', '--repo', repo, '--generate-passphrase', '--json'], {});
    assert.equal(created.code, 0, created.stderr);
    const { passphrase } = lastJson(created);
    assert.ok(passphrase.length >= 16);
    const listed = await runCli(['snapshots', '--repo', repo, '--json'], { OFFSITE_PASSWORD: passphrase });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(lastJson(listed), []);
  });

  it('reads the passphrase from --password-file and OFFSITE_PASSWORD_FILE', async (t) => {
    const { dir, repo } = await setup(t);
    const file = join(dir, 'pass');
    await writeFile(file, `${PASS}\n`);
    assert.equal((await runCli(['init', '--repo', repo, '--password-file', file])).code, 0);
    assert.equal((await runCli(['snapshots', '--repo', repo], { OFFSITE_PASSWORD_FILE: file })).code, 0);
    const missing = await runCli(['snapshots', '--repo', repo, '--password-file', join(dir, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the password file/);
  });

  it('backs up with excludes and tags, lists, restores, diffs and checks', async (t) => {
    const { dir, src, env } = await setup(t);
    assert.equal((await runCli(['init'], env)).code, 0);
    const first = await runCli(['backup', src, '--exclude', '*.tmp', '--tag', 'daily', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const one = lastJson(first);
    assert.equal(one.snapshot.stats.filesNew, 2);
    assert.deepEqual(one.snapshot.tags, ['daily']);

    const text = await runCli(['backup', src, '--exclude', '*.tmp'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Files: +0 new, 0 changed, 2 unmodified/);
    assert.match(text.stdout, /snapshot [0-9a-f]{8} saved/);

    await writeFile(join(src, 'docs', 'a.txt'), 'changed\n');
    const third = lastJson(await runCli(['backup', src, '--exclude', '*.tmp', '--json'], env));
    assert.equal(third.snapshot.stats.filesChanged, 1);

    const snaps = lastJson(await runCli(['snapshots', '--json'], env));
    assert.equal(snaps.length, 3);
    const tagged = lastJson(await runCli(['snapshots', '--tag', 'daily', '--json'], env));
    assert.equal(tagged.length, 1);

    const ls = await runCli(['ls', 'latest', '--json'], env);
    const paths = lastJson(ls).map((e: { path: string }) => e.path);
    assert.ok(paths.includes(`${src}/docs/a.txt`));
    assert.ok(!paths.some((p: string) => p.endsWith('skip.tmp')), 'excluded file is not in the snapshot');

    const diff = await runCli(['diff', one.id.slice(0, 8), 'latest'], env);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, new RegExp(`M +${src}/docs/a.txt`));

    const target = join(dir, 'out');
    const restored = await runCli(
      ['restore', one.id.slice(0, 8), '--target', target, '--include', `${src}/docs`],
      env,
    );
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(await readFile(join(target, src, 'docs', 'a.txt'), 'utf8'), 'alpha\n'.repeat(1000));
    await assert.rejects(
      readFile(join(target, src, 'b.bin')),
      /ENOENT/,
      '--include restores only what it names',
    );

    const check = await runCli(['check', '--read-data'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems found/);
  });

  it('exits 3 and lists files it could not read, but still saves the snapshot', async (t) => {
    const { dir, src, env } = await setup(t);
    const locked = join(src, 'locked.txt');
    await writeFile(locked, 'secret', { mode: 0o000 });
    // Root reads anything, so as root the backup runs as "nobody" with everything but
    // the locked file handed over to that user.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) execFileSync('chown', ['-R', 'nobody:nogroup', dir]);
    if (asNobody) execFileSync('chown', ['root:root', locked]);
    const run = (args: string[]) => (asNobody ? runCliAs('nobody', args, env) : runCli(args, env));
    assert.equal((await run(['init'])).code, 0);
    const result = await run(['backup', src, '--json']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /locked\.txt/);
    const out = lastJson(result);
    assert.equal(out.errors.length, 1);
    assert.equal(out.snapshot.stats.filesNew, 3, 'the readable files were saved');
  });

  it('prints help for every command and refuses unknown ones', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['init', 'backup', 'restore', 'snapshots', 'ls', 'diff', 'cat', 'check', 'key']) {
      assert.match(help.stdout, new RegExp(`\\n  ${command} `));
      const one = await runCli([command, '--help']);
      assert.equal(one.code, 0);
      assert.match(one.stdout, new RegExp(`usage: offsite ${command}`));
    }
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badFlag = await runCli(['backup', '--no-such-flag']);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /usage: offsite backup/);
  });

  it('manages keys: add, list, passwd; the old passphrase stops working', async (t) => {
    const { dir, env } = await setup(t);
    assert.equal((await runCli(['init'], env)).code, 0);
    const second = join(dir, 'second');
    await writeFile(second, 'a second long passphrase');
    assert.equal((await runCli(['key', 'add', '--new-password-file', second], env)).code, 0);
    const keys = lastJson(await runCli(['key', 'list', '--json'], env));
    assert.equal(keys.length, 2);
    assert.ok(
      keys.every((k: Record<string, unknown>) => k.wrapped === undefined),
      'wrapped keys are not printed',
    );
    const third = join(dir, 'third');
    await writeFile(third, 'the third long passphrase');
    assert.equal((await runCli(['key', 'passwd', '--new-password-file', third], env)).code, 0);
    assert.equal((await runCli(['snapshots'], env)).code, 12, 'the replaced passphrase no longer opens');
    assert.equal(
      (await runCli(['snapshots'], { ...env, OFFSITE_PASSWORD_FILE: third, OFFSITE_PASSWORD: undefined }))
        .code,
      0,
    );
    assert.equal(
      (await runCli(['snapshots'], { ...env, OFFSITE_PASSWORD_FILE: second, OFFSITE_PASSWORD: undefined }))
        .code,
      0,
    );
  });

  it('key add --recovery prints a recovery key once; it opens the repository', async (t) => {
    const { env } = await setup(t);
    assert.equal((await runCli(['init'], env)).code, 0);
    const added = await runCli(['key', 'add', '--recovery'], env);
    assert.equal(added.code, 0, added.stderr);
    const key = /recovery key: ([A-Z2-7-]{39})/.exec(added.stdout)?.[1];
    assert.ok(key, added.stdout);
    const listed = lastJson(await runCli(['key', 'list', '--json'], env));
    assert.ok(listed.some((k: { label: string }) => k.label === 'recovery'));
    const opened = await runCli(['snapshots'], {
      ...env,
      OFFSITE_PASSWORD: key.toLowerCase().replaceAll('-', ''),
    });
    assert.equal(opened.code, 0, opened.stderr);
  });

  it('cat prints decrypted objects but never the master key', async (t) => {
    const { src, env } = await setup(t);
    assert.equal((await runCli(['init'], env)).code, 0);
    const backup = lastJson(await runCli(['backup', src, '--json'], env));
    const config = await runCli(['cat', 'config'], env);
    assert.equal(config.code, 0, config.stderr);
    assert.match(config.stdout, /"packSize"/);
    const snap = await runCli(['cat', 'snapshot', backup.id.slice(0, 10)], env);
    assert.match(snap.stdout, new RegExp(backup.snapshot.tree));
    const tree = await runCli(['cat', 'tree', backup.snapshot.tree], env);
    assert.equal(tree.code, 0, tree.stderr);
    assert.match(tree.stdout, /"name"/);
    assert.doesNotMatch(config.stdout + snap.stdout + tree.stdout, /master/i);
  });
});

// Damage on disk: one flipped byte in a pack, an index or a snapshot is caught by
// `check --read-data` and by `restore`, each naming the damaged object.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { flipByte, objects } from './helpers/damage.ts';

const PASS = 'correct horse battery staple';

async function prepare(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  const src = join(dir, 'src');
  await mkdir(src);
  for (let i = 0; i < 20; i++)
    await writeFile(join(src, `file${i}`), `content of file ${i}\n`.repeat(2000 + i));
  const env = { OFFSITE_REPOSITORY: repo, OFFSITE_PASSWORD: PASS };
  assert.equal((await runCli(['init'], env)).code, 0);
  const backup = await runCli(['backup', src, '--json'], env);
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal((await runCli(['check', '--read-data'], env)).code, 0);
  return { dir, repo, src, env, id: lastJson(backup).id as string };
}

describe('corruption is detected and named', () => {
  it('a flipped byte in a data pack: check --read-data and restore name the pack', async (t) => {
    const { dir, repo, env } = await prepare(t);
    const packs = await objects(repo, 'data');
    // Both packs (data and tree) are damaged in turn; find the data pack by restoring.
    for (const pack of packs) await flipByte(join(repo, pack), 60);
    const check = await runCli(['check', '--read-data'], env);
    assert.equal(check.code, 1);
    for (const pack of packs) assert.match(check.stdout, new RegExp(pack.replaceAll('/', '\\/')));
    const restore = await runCli(['restore', 'latest', '--target', join(dir, 'out')], env);
    assert.notEqual(restore.code, 0);
    assert.ok(
      packs.some((p) => restore.stderr.includes(p)),
      restore.stderr,
    );
  });

  it('a flipped byte in an index file is named by check and by restore', async (t) => {
    const { dir, repo, env } = await prepare(t);
    const [index] = await objects(repo, 'index');
    await flipByte(join(repo, index!));
    const check = await runCli(['check', '--read-data'], env);
    assert.equal(check.code, 1);
    assert.match(check.stdout, new RegExp(`error: ${index}`));
    const restore = await runCli(['restore', 'latest', '--target', join(dir, 'out')], env);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, new RegExp(`${index}.*damaged`));
  });

  it('a flipped byte in a snapshot is named by check and by restore', async (t) => {
    const { dir, repo, env, id } = await prepare(t);
    const [snapshot] = await objects(repo, 'snapshots');
    assert.equal(snapshot, `snapshots/${id}`);
    await flipByte(join(repo, snapshot));
    const check = await runCli(['check'], env);
    assert.equal(check.code, 1);
    assert.match(check.stdout, new RegExp(`error: ${snapshot}`));
    const restore = await runCli(['restore', id.slice(0, 8), '--target', join(dir, 'out')], env);
    assert.equal(restore.code, 1);
    assert.match(restore.stderr, new RegExp(snapshot!));
  });

  it('a damaged config or key file stops with a clear error, not a crash', async (t) => {
    const { repo, env } = await prepare(t);
    await flipByte(join(repo, 'config'));
    const result = await runCli(['snapshots'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /config failed authentication/);
    assert.doesNotMatch(result.stderr, /unexpected error/);
    const [key] = await objects(repo, 'keys');
    await flipByte(join(repo, key!));
    const keyResult = await runCli(['snapshots'], env);
    assert.notEqual(keyResult.code, 0);
    assert.match(keyResult.stderr, new RegExp(key!));
  });
});

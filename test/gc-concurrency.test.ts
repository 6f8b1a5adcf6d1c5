// Backups and forget + prune running at the same time, as separate processes, for a
// minute: prune never blocks a backup, and every snapshot that forget kept restores
// exactly as it was backed up.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { ensureDir, FileStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { TEST_PASSPHRASE } from './helpers/repo.ts';

const DURATION_MS = 60_000;

async function hashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(root)).sort()) {
    out[name] = createHash('sha256')
      .update(await readFile(join(root, name)))
      .digest('hex');
  }
  return out;
}

/**
 * Contents come from a small pool, so old contents come back after forget and prune
 * have condemned them, as reverted files do: the case where a backup must not rely on
 * a condemned pack.
 */
const POOL = Array.from({ length: 24 }, () => randomBytes(150_000));
const pick = () => POOL[Math.floor(Math.random() * POOL.length)]!;

/** Each round: some files replaced, one added, one removed. */
async function mutate(src: string, round: number): Promise<void> {
  const names = (await readdir(src)).sort();
  for (const name of names.filter((_, i) => (i + round) % 4 === 0)) await writeFile(join(src, name), pick());
  await writeFile(join(src, `new-${round}`), pick());
  if (names.length > 12) await rm(join(src, names[round % names.length]!));
}

describe('backups and prune at the same time', () => {
  it('for a minute, every kept snapshot restores identically', { timeout: 5 * 60 * 1000 }, async (t) => {
    const dir = await tempDir(t);
    const repoPath = join(dir, 'repo');
    await ensureDir(repoPath);
    await Repository.init(new FileStore(repoPath), TEST_PASSPHRASE, {
      kdf: fastKdfParams(),
      config: { packSize: 512 * 1024 },
    });
    const env = { OFFSITE_REPOSITORY: repoPath, OFFSITE_PASSWORD: TEST_PASSPHRASE };
    const src = join(dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 10; i++) await writeFile(join(src, `f${i}`), pick());
    const expected = new Map<string, Record<string, string>>();
    const deadline = Date.now() + DURATION_MS;
    let backups = 0;
    let prunes = 0;
    let deleted = 0;

    const backupLoop = async () => {
      for (let round = 0; Date.now() < deadline; round++) {
        await mutate(src, round);
        const content = await hashes(src);
        const result = await runCli(['backup', src, '--json'], env);
        assert.equal(result.code, 0, `backup ${round} failed while prune ran: ${result.stderr}`);
        expected.set(lastJson(result).id, content);
        backups++;
      }
    };
    const pruneLoop = async () => {
      while (Date.now() < deadline) {
        const forget = await runCli(['forget', '--keep-last', '3', '--json'], env);
        assert.equal(forget.code, 0, forget.stderr);
        const result = await runCli(
          ['prune', '--grace', '0', '--clock-skew', '0', '--max-unused', '10%', '--json'],
          env,
        );
        assert.equal(result.code, 0, result.stderr);
        deleted += lastJson(result).plan.remove.length;
        prunes++;
      }
    };
    await Promise.all([backupLoop(), pruneLoop()]);
    t.diagnostic(`${backups} backups and ${prunes} prunes ran concurrently; ${deleted} packs deleted`);
    assert.ok(backups >= 5 && prunes >= 5, 'both loops really ran');
    assert.ok(deleted > 0, 'prune deleted data while backups ran');

    const kept = lastJson(await runCli(['snapshots', '--json'], env)) as { id: string }[];
    assert.ok(kept.length >= 3);
    for (const { id } of kept) {
      const target = join(dir, `restore-${id.slice(0, 8)}`);
      const restored = await runCli(['restore', id, '--target', target], env);
      assert.equal(restored.code, 0, restored.stderr);
      assert.deepEqual(
        await hashes(join(target, src)),
        expected.get(id),
        `snapshot ${id.slice(0, 8)} restores identically`,
      );
    }
    const check = await runCli(['check', '--read-data'], env);
    assert.equal(check.code, 0, check.stdout);
  });
});

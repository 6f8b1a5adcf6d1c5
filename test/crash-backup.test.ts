// A backup killed (SIGKILL) at a random moment, 50 times: each time the next backup
// completes, uploads no more than what was not yet stored plus one pack, and
// `check --read-data` finds a clean repository.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { ensureDir, FileStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { storedBytes, TEST_PASSPHRASE } from './helpers/repo.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const RUNS = 50;
const PACK_SIZE = 1024 * 1024;
const NEW_DATA = 6 * 1024 * 1024;

function killedBackup(args: string[], env: Record<string, string>, delayMs: number): Promise<void> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

describe('crash safety of backups', () => {
  it(`${RUNS} backups killed at random moments leave nothing to repair`, {
    timeout: 15 * 60 * 1000,
  }, async (t) => {
    const dir = await tempDir(t);
    const repoPath = join(dir, 'repo');
    await ensureDir(repoPath);
    // Small packs, so an interrupted backup has written several of them.
    await Repository.init(new FileStore(repoPath), TEST_PASSPHRASE, {
      kdf: fastKdfParams(),
      config: { packSize: PACK_SIZE },
    });
    const src = join(dir, 'src');
    await mkdir(src);
    const env = { OFFSITE_REPOSITORY: repoPath, OFFSITE_PASSWORD: TEST_PASSPHRASE };
    const store = new FileStore(repoPath);
    const dataBytes = async () => {
      let n = 0;
      for await (const o of store.list('data/')) n += o.size;
      return n;
    };
    let worst = 0;
    for (let run = 0; run < RUNS; run++) {
      // New, incompressible data each run: stored size is about its raw size.
      for (let f = 0; f < 6; f++) await writeFile(join(src, `r${run}-f${f}`), randomBytes(NEW_DATA / 6));
      const before = await dataBytes();
      await killedBackup(['backup', src], env, Math.floor(Math.random() * 1500));
      const afterKill = await dataBytes();
      const completed = await runCli(['backup', src, '--json'], env);
      assert.equal(completed.code, 0, completed.stderr);
      const uploaded = (await dataBytes()) - afterKill;
      const missing = Math.max(0, NEW_DATA - (afterKill - before));
      const overhead = uploaded - missing;
      worst = Math.max(worst, overhead);
      assert.ok(
        overhead <= PACK_SIZE + 64 * 1024,
        `run ${run}: uploaded ${uploaded} bytes when ${missing} were missing`,
      );
      assert.equal(lastJson(completed).snapshot.stats.errors, 0);
      const check = await runCli(['check', '--read-data', '--json'], env);
      assert.equal(check.code, 0, `run ${run}: ${check.stdout}`);
      await sleep(1);
    }
    t.diagnostic(`worst re-upload beyond the missing data: ${worst} bytes (one pack is ${PACK_SIZE})`);
    const repo = await Repository.open(store, TEST_PASSPHRASE);
    t.diagnostic(
      `repository: ${(await storedBytes(repo)) >> 20} MiB for ${(RUNS * NEW_DATA) >> 20} MiB of data`,
    );
  });
});

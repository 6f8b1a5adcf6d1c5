// Prune killed (SIGKILL) at random moments, over and over, while there is garbage to
// condemn, repack and delete: after each kill the repository has no problem (only notes
// that the next run finishes), and at the end every kept snapshot restores identically.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { ensureDir, FileStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { TEST_PASSPHRASE } from './helpers/repo.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const ROUNDS = 20;
const PRUNE = ['prune', '--grace', '0', '--clock-skew', '0', '--max-unused', '5%'];

/**
 * Runs a prune and, once it holds its lock (its real work has begun), kills it after
 * `fraction` of `workMs`; with no fraction, lets it finish. Returns how long it worked.
 */
async function pruneKilledAt(
  env: Record<string, string>,
  repoPath: string,
  fraction?: number,
  workMs = 0,
): Promise<number> {
  const child = spawn(process.execPath, [MAIN, ...PRUNE], {
    env: { PATH: process.env.PATH, ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const store = new FileStore(repoPath);
  let began = 0;
  let running = true;
  void exited.then(() => (running = false));
  while (running && began === 0) {
    if ((await store.head('locks/prune')) !== null) began = Date.now();
    else await sleep(2);
  }
  if (began > 0 && fraction !== undefined) {
    await sleep(Math.floor(fraction * workMs));
    child.kill('SIGKILL');
  }
  await exited;
  return began > 0 ? Date.now() - began : 0;
}

async function hashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(root)).sort())
    out[name] = createHash('sha256')
      .update(await readFile(join(root, name)))
      .digest('hex');
  return out;
}

describe('crash safety of prune', () => {
  it(`prune killed at random moments ${ROUNDS} times loses nothing`, {
    timeout: 10 * 60 * 1000,
  }, async (t) => {
    const dir = await tempDir(t);
    const repoPath = join(dir, 'repo');
    await ensureDir(repoPath);
    await Repository.init(new FileStore(repoPath), TEST_PASSPHRASE, {
      kdf: fastKdfParams(),
      config: { packSize: 256 * 1024 },
    });
    const env = { OFFSITE_REPOSITORY: repoPath, OFFSITE_PASSWORD: TEST_PASSPHRASE };
    const src = join(dir, 'src');
    await mkdir(src);
    const expected = new Map<string, Record<string, string>>();
    let notes = 0;
    let interrupted = 0;
    let pruneMs = 300;
    for (let round = 0; round < ROUNDS; round++) {
      // New garbage each round: files rewritten, old snapshots forgotten.
      for (let f = 0; f < 8; f++)
        if ((f + round) % 3 === 0 || round === 0) await writeFile(join(src, `f${f}`), randomBytes(120_000));
      const saved = await runCli(['backup', src, '--json'], env);
      assert.equal(saved.code, 0, saved.stderr);
      expected.set(lastJson(saved).id, await hashes(src));
      assert.equal((await runCli(['forget', '--keep-last', '2'], env)).code, 0);
      if (round % 5 === 4) {
        // Now and then a full run, to measure how long a prune's work takes here.
        pruneMs = await pruneKilledAt(env, repoPath);
        continue;
      }
      await pruneKilledAt(env, repoPath, Math.random(), pruneMs);
      if ((await new FileStore(repoPath).head('locks/prune')) !== null) interrupted++;
      const check = await runCli(['check', '--read-data', '--json'], env);
      const result = lastJson(check);
      assert.deepEqual(
        result.problems,
        [],
        `round ${round}: problems after a killed prune: ${JSON.stringify(result.problems)}`,
      );
      notes += result.notes.length;
    }
    const finished = await runCli(PRUNE, env);
    assert.equal(finished.code, 0, `a prune after all the kills runs: ${finished.stderr}`);
    t.diagnostic(`${interrupted} prunes killed holding their lock; ${notes} notes finished by later runs`);
    assert.ok(interrupted >= 3, 'kills really landed in the middle of prunes');
    const kept = lastJson(await runCli(['snapshots', '--json'], env)) as { id: string }[];
    assert.equal(kept.length, 2);
    for (const { id } of kept) {
      const target = join(dir, `out-${id.slice(0, 8)}`);
      assert.equal((await runCli(['restore', id, '--target', target], env)).code, 0);
      assert.deepEqual(await hashes(join(target, src)), expected.get(id));
    }
    const final = lastJson(await runCli(['check', '--read-data', '--json'], env));
    assert.deepEqual(final.problems, []);
  });
});

// Storage that misbehaves: with 20 % of operations failing transiently, backup and
// restore still succeed (retried with backoff); with a permanent failure they stop with
// a clear error, and the repository still checks clean.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OffsiteError } from '../src/errors/index.ts';
import { backup, checkRepository, Repository, restore } from '../src/repo/index.ts';
import { FaultStore, FileStore, RetryStore } from '../src/storage/index.ts';
import { tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, TEST_PASSPHRASE } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

const fastRetry = { attempts: 8, baseDelayMs: 1, maxDelayMs: 5 };

async function openThrough(store: RetryStore | FaultStore): Promise<Repository> {
  return Repository.open(store, TEST_PASSPHRASE);
}

describe('storage faults', () => {
  it('with 20 % of operations failing transiently, backup and restore succeed', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await makeTree(src, { smallFiles: 300, largeFileBytes: 6 * 1024 * 1024, seed: 11 });
    const { path } = await makeRepo(dir);
    // fail-after: the write happens, then the caller sees a failure (a lost reply).
    const lostReplies = new FaultStore(new FileStore(path), {
      rate: 0.3,
      kinds: ['fail-after'],
      ops: ['put', 'delete'],
      seed: 3,
    });
    // 20 %: restore reads each pack in a few long runs, so there are few operations to hit.
    const faults = new FaultStore(lostReplies, {
      rate: 0.2,
      kinds: ['fail-transient', 'delay'],
      seed: 7,
      delayMs: 2,
    });
    const store = new RetryStore(faults, fastRetry);

    const saved = await backup(await openThrough(store), { paths: [src] });
    assert.deepEqual(saved.errors, []);
    const target = join(dir, 'out');
    const reader = await openThrough(store);
    await reader.loadIndex();
    const restored = await restore(reader, saved, { target });
    assert.deepEqual(restored.errors, []);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
    t.diagnostic(
      `faults injected: ${JSON.stringify(faults.injected)}, lost replies: ${lostReplies.injected['fail-after']}`,
    );
    assert.ok(
      faults.injected['fail-transient'] >= 5 && faults.injected.delay >= 5,
      'transient faults really happened',
    );
    assert.ok(lostReplies.injected['fail-after'] >= 1, 'writes whose reply was lost really happened');
    const check = await checkRepository(await reopen(path), { readData: true });
    assert.deepEqual(check.problems, []);
  });

  it('a permanent storage failure stops the backup with a clear error; the repository stays clean', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await makeTree(src, { smallFiles: 200, largeFileBytes: 4 * 1024 * 1024, seed: 12 });
    const { path } = await makeRepo(dir);
    const first = await backup(await reopen(path), { paths: [src] });
    // The next backup writes new data, and every pack upload fails for good.
    await makeTree(join(src, 'more'), { smallFiles: 50, largeFileBytes: 2 * 1024 * 1024, seed: 13 });
    const faults = new FaultStore(new FileStore(path), {
      rate: 1,
      kinds: ['fail-permanent'],
      ops: ['put'],
      only: (_op, name) => name.startsWith('data/'),
    });
    const store = new RetryStore(faults, fastRetry);
    let failure: unknown;
    try {
      await backup(await openThrough(store), { paths: [src] });
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof OffsiteError, `a clear error, not a crash: ${failure}`);
    assert.match(failure.message, /data\/|injected/i);
    // Uploads run in parallel, so a few may fail before the backup stops; none is retried
    // (src/storage/wrappers/retry.test.ts pins that).
    assert.ok(faults.injected['fail-permanent'] >= 1);

    const repo = await reopen(path);
    const check = await checkRepository(repo, { readData: true });
    assert.deepEqual(check.problems, []);
    assert.deepEqual(
      (await repo.listFiles('snapshot')).length,
      1,
      'no snapshot was written for the failed backup',
    );
    const target = join(dir, 'out');
    const restored = await restore(repo, first, { target });
    assert.deepEqual(restored.errors, []);
  });
});

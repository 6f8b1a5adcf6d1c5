import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PackWorkerConfig, WorkerReply } from './pack-worker.ts';
import { workerUrl } from './worker-source.ts';

const entry = new URL('./pack-worker.ts', import.meta.url);

describe('workerUrl (workers started from stripped JavaScript)', () => {
  it('writes the module graph as .mjs into a private folder, once per process', () => {
    const url = workerUrl(entry);
    assert.equal(url.protocol, 'file:');
    assert.match(url.pathname, /\/repo\/pack-worker\.mjs$/);
    assert.equal(workerUrl(entry).href, url.href);
    const code = readFileSync(url, 'utf8');
    assert.doesNotMatch(code, /from '\.[^']*\.ts'/, 'relative imports point at .mjs copies');
    assert.match(code, /from '\.\/compress\.mjs'/);
    const root = dirname(dirname(fileURLToPath(url)));
    assert.equal(statSync(root).mode & 0o777, 0o700);
    assert.ok(statSync(new URL('./crypto/seal.mjs', url)).isFile());
  });

  it('starts a pack worker that answers', async () => {
    const config: PackWorkerConfig = {
      encKey: new Uint8Array(32),
      level: 3,
      packSize: 1 << 20,
      maxBlob: 1 << 16,
    };
    const worker = new Worker(workerUrl(entry), { workerData: config });
    try {
      const reply = await new Promise<WorkerReply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ op: 'flush', seq: 7 });
      });
      assert.deepEqual(reply, { op: 'flushed', seq: 7 });
    } finally {
      await worker.terminate();
    }
  });

  it('removes the copy a killed process left behind, and only that', () => {
    const source = new URL('./worker-source.ts', import.meta.url).href;
    const run = (code: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    const copy = `import { workerUrl } from ${JSON.stringify(source)};
      const url = workerUrl(new URL(${JSON.stringify(entry.href)}));
      console.log(new URL('..', url).pathname);`;
    const killed = run(`${copy} process.kill(process.pid, 'SIGKILL');`);
    assert.equal(killed.signal, 'SIGKILL');
    const left = killed.stdout.trim();
    assert.ok(existsSync(left), 'a SIGKILLed process cannot remove its copy');
    const mine = dirname(dirname(fileURLToPath(workerUrl(entry))));
    const next = run(copy);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(existsSync(left), false, 'the next process removed the orphan');
    assert.ok(existsSync(mine), 'a running process keeps its copy');
  });
});

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
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
});

// bin/offsite.js, the installed entry: it runs under the pinned Node when the one on
// PATH is too old, and keeps Node's compile cache in a private folder of the user's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { run, tempDir } from './helpers/cli.ts';

const BIN = resolve(import.meta.dirname, '../bin/offsite.js');

describe('launcher', () => {
  it('runs a command and caches compiled modules in a private folder', async (t) => {
    const dir = await tempDir(t);
    const result = await run(process.execPath, [BIN, '--version'], { XDG_CACHE_HOME: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^offsite \d+\.\d+\.\d+/);
    const cache = join(dir, 'offsite', 'compile-cache');
    assert.equal((await stat(cache)).mode & 0o777, 0o700);
    assert.ok((await readdir(cache)).length > 0, 'the compile cache was written');
  });

  it('does not use a cache folder that others may write to', async (t) => {
    const dir = await tempDir(t);
    const cache = join(dir, 'offsite', 'compile-cache');
    await mkdir(cache, { recursive: true });
    await chmod(cache, 0o777);
    const result = await run(process.execPath, [BIN, '--version'], { XDG_CACHE_HOME: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await readdir(cache), []);
  });

  it('re-runs itself under the pinned Node when the node on PATH is older', (t) => {
    const system = spawnSync('node', ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    const major = Number(/^v(\d+)/.exec(system.stdout ?? '')?.[1] ?? 0);
    if (system.status !== 0 || major >= 24) return t.skip('no older node on PATH');
    const result = spawnSync('node', [BIN, '--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^offsite \d+\.\d+\.\d+/);
  });
});

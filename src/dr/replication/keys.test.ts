import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acceptKey, loadOrCreateKey, readKey } from './keys.ts';

test('a workload key is made once, kept 0600, and the replica keeps the first key it is offered', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-dr-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'paris', 'shop.key');
  const key = await loadOrCreateKey(path);
  assert.match(key, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(await loadOrCreateKey(path), key);
  assert.equal((await stat(path)).mode & 0o777, 0o600);

  const kept = join(dir, 'lyon', 'shop', 'key');
  assert.equal(await readKey(kept), undefined);
  assert.equal(await acceptKey(kept, key), true);
  assert.equal(await acceptKey(kept, key), false, 'the same key again is fine');
  await assert.rejects(acceptKey(kept, `${key}x`), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'KEY_MISMATCH');
    assert.ok(!err.message.includes(key), 'no key in the message');
    return true;
  });
  assert.equal(await readKey(kept), key);
  assert.equal((await stat(kept)).mode & 0o777, 0o600);
});

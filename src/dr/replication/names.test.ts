import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { checkContent, checkDeletableName, checkWritableName } from './names.ts';

const HASH = 'ab'.repeat(32);

test('a sender may write the objects a backup writes, and nothing else', () => {
  for (const name of [
    'config',
    `keys/${HASH}`,
    `index/${HASH}`,
    `snapshots/${HASH}`,
    `sessions/${HASH}`,
    `data/ab/${HASH}`,
  ]) {
    assert.doesNotThrow(() => checkWritableName(name), name);
  }
  for (const name of [
    'locks/prune',
    `gc/${HASH}`,
    `gc-vault/${HASH}`,
    `data/cd/${HASH}`,
    `index/${HASH.toUpperCase()}`,
    'restore-access',
    'x',
  ]) {
    assert.throws(() => checkWritableName(name), { code: 'NAME_NOT_REPLICABLE' }, name);
  }
  assert.throws(() => checkWritableName('../config'), { code: 'BAD_OBJECT_NAME' });
});

test('contents must match the announced hash and the name', () => {
  const body = Buffer.from('some bytes');
  const sha = createHash('sha256').update(body).digest('hex');
  assert.equal(checkContent(`index/${sha}`, body, sha), sha);
  assert.equal(checkContent('config', body, sha), sha);
  assert.throws(() => checkContent(`index/${sha}`, body, HASH), { code: 'SHA256_MISMATCH' });
  assert.throws(() => checkContent(`index/${HASH}`, body, sha), { code: 'NAME_NOT_HASH' });
});

test('a sender may delete only its sessions', () => {
  assert.doesNotThrow(() => checkDeletableName(`sessions/${HASH}`));
  for (const name of [`snapshots/${HASH}`, `data/ab/${HASH}`, `index/${HASH}`, 'config', `keys/${HASH}`]) {
    assert.throws(() => checkDeletableName(name), { code: 'FORBIDDEN' }, name);
  }
});

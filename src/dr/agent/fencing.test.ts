import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { FencingStore } from './fencing.ts';

async function temp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-fencing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('fencing epochs', () => {
  it('only go up, survive a restart, and refuse a stale epoch with FENCED', async (t) => {
    const file = join(await temp(t), 'dr', 'fencing.json');
    const store = new FencingStore(file);
    await store.check('app', 1); // nothing known: anything goes
    assert.deepEqual(await store.record('app', 2, 'dc2'), { epoch: 2, activeSite: 'dc2' });
    assert.deepEqual(await store.record('app', 1, 'dc1'), { epoch: 2, activeSite: 'dc2' }, 'never back');
    const restarted = new FencingStore(file);
    assert.deepEqual(await restarted.get('app'), { epoch: 2, activeSite: 'dc2' });
    await assert.rejects(restarted.check('app', 1), { code: 'FENCED' });
    await restarted.check('app', 2);
    await restarted.check('app', 3);
    assert.deepEqual(
      await restarted.record('app', 2, null),
      { epoch: 2, activeSite: 'dc2' },
      'null keeps the site',
    );
  });

  it('writes one at a time under concurrent records', async (t) => {
    const file = join(await temp(t), 'fencing.json');
    const store = new FencingStore(file);
    await Promise.all([1, 5, 3, 4, 2].map((e) => store.record('app', e, `dc${e}`)));
    assert.deepEqual(await new FencingStore(file).get('app'), { epoch: 5, activeSite: 'dc5' });
  });

  it('refuses every start when its file is damaged', async (t) => {
    const file = join(await temp(t), 'fencing.json');
    await writeFile(file, '{not json');
    await assert.rejects(new FencingStore(file).check('app', 9), { code: 'FENCING_STATE_DAMAGED' });
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { groupMembers, isAlive, ProcessTable, terminateGroup } from './processes.ts';

async function temp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-processes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const FIELDS = { workload: 'app', mode: 'real' as const, runId: null, epoch: 1, drEnv: {} };

describe('workload processes', () => {
  it('run in their own group, outlive nothing they should, and a reused pid is not taken for them', async (t) => {
    const table = new ProcessTable(await temp(t));
    // The group's leader starts a child that ignores SIGTERM: the group is killed whole.
    const record = await table.start(
      { id: 'real-app', ...FIELDS },
      "trap '' TERM; sleep 60 & echo started; wait",
      {
        PATH: process.env.PATH,
      },
    );
    t.after(() => terminateGroup(record.pid, 100));
    assert.notEqual(record.pid, process.pid);
    assert.equal(await isAlive(record), true);
    assert.deepEqual(
      (await table.list()).map((r) => r.id),
      ['real-app'],
    );
    assert.ok((await groupMembers(record.pid)).length >= 2, 'the leader and its child');
    assert.equal(await isAlive({ ...record, startTicks: '1' }), false, 'same pid, another process');
    for (let i = 0; i < 50 && !(await readFile(table.logFile('real-app'), 'utf8')).includes('started'); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(await readFile(table.logFile('real-app'), 'utf8'), /started/);

    assert.equal(await terminateGroup(record.pid, 300), true);
    assert.deepEqual(await groupMembers(record.pid), []);
    assert.equal(await table.running('real-app'), undefined, 'a dead record is forgotten');
    assert.deepEqual(await table.list(), []);
  });
});

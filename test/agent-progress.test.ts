// A backup into the vault tells the vault how far it is while it runs: the job shows
// growing bytes before it ends, and the final report carries the total.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { backupToVault } from '../src/agent/backup-job.ts';
import { vaultRepoStore } from '../src/agent/vault.ts';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { agentStateOf, registerTestAgent, startTestVault } from './helpers/vault.ts';

test('a running backup reports its progress to the vault job', async (t) => {
  const v = await startTestVault(t);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const state = agentStateOf(v, agent, join(v.dir, 'agent'));
  const passphrase = 'progress test passphrase, long enough';
  await Repository.init(vaultRepoStore(state), passphrase, { kdf: fastKdfParams() });
  const repo = await Repository.open(vaultRepoStore(state), passphrase);
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 400, largeFileBytes: 24 * 1024 * 1024, seed: 51 });

  const done = await backupToVault(state, repo, { paths: [src] }, { progressEveryMs: 10 });
  const running = v.logs.filter((e) => e.method === 'PATCH' && e.route === '/v1/agent/jobs/:id');
  assert.ok(running.length >= 2, `progress was reported (${running.length} job updates)`);
  const jobs = (await v.call('/v1/vaults/prod/jobs')).json().jobs;
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].status, 'succeeded');
  const { stats } = done.result.snapshot;
  assert.equal(jobs[0].bytes, stats.bytesAddedStored + stats.treeBytesAddedStored);
});

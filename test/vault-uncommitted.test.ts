// A backup stopped between storing its snapshot and committing it (the vault went away)
// is no recovery point: the agent neither lists nor reads that snapshot, and the agent
// commits it before its next backup, from the commit it kept.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { backupToVault } from '../src/agent/backup-job.ts';
import { commitBackup } from '../src/agent/commit.ts';
import { commitPendingPoints } from '../src/agent/pending-points.ts';
import { vaultRepoStore } from '../src/agent/vault.ts';
import { backup, fastKdfParams, Repository } from '../src/repo/index.ts';
import { freePort } from './helpers/ports.ts';
import { TcpRelay } from './helpers/tcp-relay.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { agentStateOf, registerTestAgent, startTestVault } from './helpers/vault.ts';

const PASSPHRASE = 'uncommitted points test passphrase';

/** A registered agent with a repository in the vault, and a source folder to fill. */
async function agentWithRepository(t: Parameters<typeof startTestVault>[0]) {
  const v = await startTestVault(t);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const state = agentStateOf(v, agent, join(v.dir, 'agent'));
  await Repository.init(vaultRepoStore(state), PASSPHRASE, { kdf: fastKdfParams() });
  const repo = await Repository.open(vaultRepoStore(state), PASSPHRASE);
  return { v, agent, state, repo, src: join(v.dir, 'src') };
}

test('an uncommitted snapshot is hidden until the next backup commits it', async (t) => {
  const { v, agent, state, repo, src } = await agentWithRepository(t);
  await makeTree(src, { smallFiles: 30, largeFileBytes: 256 * 1024, seed: 9 });

  const stored = await backup(repo, { paths: [src] });
  const snapshots = async () =>
    (await agent.call('/v1/agent/repo/objects?prefix=snapshots/'))
      .json()
      .objects.map((o: { name: string }) => o.name);
  assert.deepEqual(await snapshots(), [], 'stored, not committed: no recovery point');
  const read = await agent.call(`/v1/agent/repo/objects/snapshots/${stored.id}`);
  assert.deepEqual([read.status, read.json().error], [404, 'POINT_NOT_COMMITTED']);

  const away = { ...state, info: { ...state.info, server: `https://127.0.0.1:${await freePort()}` } };
  await assert.rejects(commitBackup(away, repo, stored, [10]), /committed before the next backup/);
  assert.deepEqual(await readdir(join(state.dir, 'pending-points')), [`${stored.id}.json`]);

  await writeFile(src + '/new-file', 'changed after the first backup\n');
  const next = await backupToVault(state, repo, { paths: [src] });
  assert.deepEqual(await readdir(join(state.dir, 'pending-points')), [], 'the kept commit was sent');
  assert.deepEqual(
    (await snapshots()).sort(),
    [`snapshots/${stored.id}`, `snapshots/${next.result.id}`].sort(),
  );
  const points = (await v.call('/v1/vaults/prod/points')).json().points;
  assert.deepEqual(
    points.map((p: { snapshot: string }) => p.snapshot).sort(),
    [stored.id, next.result.id].sort(),
  );
});

test('a kept commit the vault refuses for good is dropped, with the reason', async (t) => {
  const { state, repo, src } = await agentWithRepository(t);
  await makeTree(src, { smallFiles: 5, seed: 10 });
  const stored = await backup(repo, { paths: [src] });
  const away = { ...state, info: { ...state.info, server: `https://127.0.0.1:${await freePort()}` } };
  await assert.rejects(commitBackup(away, repo, stored, []));
  const file = join(state.dir, 'pending-points', `${stored.id}.json`);
  const kept = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...kept, packs: ['0'.repeat(64)] }));

  const outcome = await commitPendingPoints(state);
  assert.deepEqual(outcome.committed, []);
  assert.equal(outcome.dropped.length, 1);
  assert.match(outcome.dropped[0]!.reason, /^PACK_NOT_STORED: /);
  assert.deepEqual(await readdir(join(state.dir, 'pending-points')), []);
});

test('a commit that meets a short outage is sent again within the run', async (t) => {
  const { v, state, repo, src } = await agentWithRepository(t);
  await makeTree(src, { smallFiles: 5, seed: 11 });
  const stored = await backup(repo, { paths: [src] });
  const relay = new TcpRelay(Number(new URL(v.server.url).port));
  const port = await relay.listen();
  t.after(() => relay.close());
  relay.down = true;
  setTimeout(() => relay.heal(), 300);
  const through = { ...state, info: { ...state.info, server: `https://127.0.0.1:${port}` } };
  const point = await commitBackup(through, repo, stored, [1_000]);
  assert.equal(point.snapshot, stored.id);
  assert.ok(relay.refused >= 1, 'the first try met the outage');
});

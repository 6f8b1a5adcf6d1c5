// Disaster recovery end to end: the vault server stopped in the middle of a failover of
// the three-tier plan (PostgreSQL, API, front; test/fixtures/dr) and started again on the
// same data dir and port resumes the run from its catalog, with the real site agents
// carrying on. The database group is done when the server goes; after the restart the
// API and front groups run, no step runs twice (one start command per workload), and the
// run succeeds with its RTO and RPO.
import assert from 'node:assert/strict';
import { aliveAt, e2eTest, front, stepsOf, TIERS } from './helpers/dr-e2e-world.ts';
import { eventually, type Json } from './helpers/dr-workload-sites.ts';

const OFFSET = 1700;

e2eTest('a server stopped mid-failover and started again resumes the run', async (t, world) => {
  world.startAgent('dc1');
  world.startAgent('dc2');
  await world.startPrimary();
  for (const tier of TIERS) {
    const c = await world.command('dc1', 'replicate-now', { workload: tier });
    assert.equal(c.state, 'succeeded', JSON.stringify(c.result));
  }

  // The runner advances only while the test lets it: until the database group is done.
  world.holdRunner(true);
  const started = await world.cliJson(
    'dr',
    'failover',
    'shop',
    '--type',
    'test',
    '--port-offset',
    String(OFFSET),
  );
  const stepState = (r: Json, name: string) => r.steps.find((s: Json) => s.name === name)?.state;
  const midway = await eventually(
    'the database group done, the API group begun',
    async () => {
      await world.v.server.background.runNow('dr-plan-runs');
      const r = await world.cliJson('dr', 'run', 'show', started.id);
      const begun =
        stepState(r, 'health/db') === 'succeeded' && stepState(r, 'materialise/api') !== 'pending';
      return begun || r.state !== 'running' ? r : undefined;
    },
    world.logs,
    120_000,
  );
  assert.equal(midway.state, 'running', stepsOf(midway));
  assert.notEqual(stepState(midway, 'start/front'), 'succeeded');

  await world.restartServer();
  world.holdRunner(false);
  const run = await world.waitRun(started.id);
  assert.equal(run.state, 'succeeded', `${stepsOf(run)}\n${world.logs()}`);
  t.diagnostic(`resumed test failover: RTO ${run.rtoSeconds} s, RPO ${run.rpoSeconds} s`);

  // Each workload started once at dc2 for this run, and the copy works through all tiers.
  const listed = await world.v.call('/v1/sites/dc2/commands');
  assert.equal(listed.status, 200, listed.text);
  const starts = listed
    .json()
    .commands.filter((c: Json) => c.kind === 'start' && c.payload?.runId === run.id)
    .map((c: Json) => c.payload.workload)
    .sort();
  assert.deepEqual(starts, ['api', 'db', 'front']);
  const alive = await aliveAt(world, 'dc2');
  assert.deepEqual(alive.map((r: Json) => `${r.workload}/${r.mode}`).sort(), [
    'api/test',
    'db/test',
    'front/test',
  ]);
  const answer = await front(world.ports.front + OFFSET, 'POST', '/rows');
  assert.equal(answer?.status, 200, JSON.stringify(answer));

  await world.cliJson('dr', 'cleanup', run.id);
  const cleaned = await world.waitRun(run.id, (r) => r.cleanup === 'succeeded' || r.cleanup === 'failed');
  assert.equal(cleaned.cleanup, 'succeeded', stepsOf(cleaned));
  assert.deepEqual(await aliveAt(world, 'dc2'), []);
});

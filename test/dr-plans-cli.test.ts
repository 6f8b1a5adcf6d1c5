// The recovery plan commands of the real CLI against the real server: a plan file with
// mistakes is refused naming each, a good one applied; a test failover started, driven
// by a played site agent, shown with its steps and timings, confirmed, listed in the
// drill history with RTO and RPO, and cleaned up.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { playSite } from './helpers/dr-site-player.ts';
import { startTestVault } from './helpers/vault.ts';

const PLAN = `plans:
  - name: shop
    groups:
      - name: data
        workloads: [db]
        post:
          - { type: manual, name: check-db, message: look at the orders }
`;

test('offsite dr plan apply, failover, run show, confirm, runs, drills, cleanup', async (t) => {
  const v = await startTestVault(t);
  const work = await tempDir(t, 'offsite-drp-cli-');
  const cli = (...args: string[]) => runCli([...args, '--json'], v.env);
  const text = (...args: string[]) => runCli(args, v.env);
  const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });
  assert.equal((await v.call('/v1/vaults', post({ name: 'dr', region: 'local' }))).status, 201);
  for (const name of ['dc1', 'dc2'])
    assert.equal((await v.call('/v1/sites', post({ name, vault: 'dr' }))).status, 201);
  const dc2 = await playSite(
    v.call,
    () => ({ url: v.server.url, caPem: v.server.caPem }),
    'dc2',
    v.clock.now,
  );
  const workloads = [
    {
      name: 'db',
      dataPaths: ['/srv/db'],
      start: 'start',
      stop: 'stop',
      health: { type: 'tcp', host: '127.0.0.1', port: 5432 },
      primarySite: 'dc1',
      replicaSite: 'dc2',
      replication: { frequency: '30s' },
    },
  ];
  assert.equal(
    (await v.call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify({ workloads }) })).status,
    200,
  );

  await writeFile(
    join(work, 'bad.yaml'),
    PLAN.replace('type: manual', 'type: pray').replace('[db]', '[db, nope]'),
  );
  const bad = await cli('dr', 'plan', 'apply', join(work, 'bad.yaml'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /plans\[0\]\.groups\[0\]\.post\[0\]\.type: must be one of script, manual, delay/);
  await writeFile(join(work, 'missing.yaml'), PLAN.replace('[db]', '[db, nope]'));
  const missing = await cli('dr', 'plan', 'apply', join(work, 'missing.yaml'));
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /workloads\[1\]: no workload named "nope"/);
  await writeFile(join(work, 'plan.yaml'), PLAN);
  const applied = await cli('dr', 'plan', 'apply', join(work, 'plan.yaml'));
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(lastJson(applied).plans, [{ name: 'shop', version: 1, change: 'created' }]);
  assert.match((await text('dr', 'plan', 'list')).stdout, /shop\s+1\s+db/);

  const started = await cli('dr', 'failover', 'shop', '--type', 'test', '--port-offset', '2000');
  assert.equal(started.code, 0, started.stderr);
  const run = lastJson(started);
  assert.equal(run.portOffset, 2000);
  for (let i = 0; i < 4; i++) {
    await v.server.background.runNow('dr-plan-runs');
    await dc2.poll();
  }
  const waiting = await text('dr', 'run', 'show', run.id);
  assert.match(waiting.stdout, /check-db\s+manual\s+-\s+running/);
  assert.match(waiting.stdout, /start\/db\s+start\s+dc2\s+succeeded/);
  assert.equal((await cli('dr', 'confirm', run.id, 'check-db')).code, 0);
  await v.server.background.runNow('dr-plan-runs');

  const runs = await cli('dr', 'runs', '--plan', 'shop');
  assert.equal(runs.code, 0, runs.stderr);
  const [listed] = lastJson(runs).runs;
  assert.deepEqual([listed.id, listed.state, listed.type], [run.id, 'succeeded', 'test']);
  assert.equal(typeof listed.rtoSeconds, 'number');
  assert.match((await text('dr', 'runs')).stdout, new RegExp(`${run.id}\\s+shop\\s+test\\s+succeeded`));
  assert.match((await text('dr', 'drills')).stdout, /db\s+\S+Z\s+ok/);

  assert.equal((await cli('dr', 'cleanup', run.id)).code, 0);
  await v.server.background.runNow('dr-plan-runs');
  await dc2.poll();
  await v.server.background.runNow('dr-plan-runs');
  assert.equal(lastJson(await cli('dr', 'run', 'show', run.id)).cleanup, 'succeeded');
  const refused = await cli('dr', 'commit', run.id);
  assert.notEqual(refused.code, 0);
  assert.equal(lastJson(refused).error, 'RUN_NOT_COMMITTABLE');
});

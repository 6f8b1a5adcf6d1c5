// The failover runner survives its server: a test failover is interrupted twice — once
// with a start command queued at the site and unanswered, once while a manual action
// waits — by stopping the real server and starting a new one on the same data dir. The
// new server resumes the run from the catalog: no step is done twice, the late answer of
// the site agent (played over HTTPS with its real certificate) is taken, and the run
// ends succeeded with its RTO and RPO.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type RunningServer, startServer } from '../src/server/index.ts';
import { tempDir } from './helpers/cli.ts';
import { playSite } from './helpers/dr-site-player.ts';
import { https, type RawOptions } from './helpers/https.ts';
import { testClock } from './helpers/vault.ts';

test('a server stopped mid-run and started again on the same data dir resumes the run', async (t) => {
  const dir = await tempDir(t, 'offsite-drp-');
  const clock = testClock();
  const start = () =>
    startServer({
      dataDir: join(dir, 'data'),
      listen: '127.0.0.1:0',
      regions: [{ name: 'local', url: `file://${join(dir, 'regions', 'local')}` }],
      log: () => {},
      now: clock.now,
      background: false,
    });
  let server: RunningServer = await start();
  t.after(() => server.close());
  const token = (await readFile(server.files.adminToken, 'utf8')).trim();
  const call = (path: string, o: RawOptions = {}) => https(server.caPem, server.url + path, { token, ...o });
  // biome-ignore lint/suspicious/noExplicitAny: answers under test
  const ok = async (r: ReturnType<typeof call>, status = 200): Promise<any> => {
    const answer = await r;
    assert.equal(answer.status, status, answer.text);
    return answer.json();
  };
  const post = (body?: unknown): RawOptions => ({ method: 'POST', body: JSON.stringify(body ?? {}) });

  await ok(call('/v1/vaults', post({ name: 'dr', region: 'local' })), 201);
  for (const name of ['dc1', 'dc2']) await ok(call('/v1/sites', post({ name, vault: 'dr' })), 201);
  const where = () => ({ url: server.url, caPem: server.caPem });
  const dc1 = await playSite(call, where, 'dc1', clock.now);
  const dc2 = await playSite(call, where, 'dc2', clock.now);
  const workloads = ['db', 'api'].map((name, i) => ({
    name,
    dataPaths: [`/srv/${name}`],
    start: 'start',
    stop: 'stop',
    health: { type: 'tcp', host: '127.0.0.1', port: 7000 + i },
    primarySite: 'dc1',
    replicaSite: 'dc2',
    replication: { frequency: '30s' },
  }));
  await ok(call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify({ workloads }) }));
  const plan = {
    name: 'shop',
    groups: [
      { name: 'data', workloads: ['db'], post: [{ type: 'manual', name: 'check-db', message: 'look' }] },
      { name: 'apps', workloads: ['api'] },
    ],
  };
  await ok(call('/v1/dr/plans', { method: 'PUT', body: JSON.stringify({ plans: [plan] }) }));
  dc2.pointTime = clock.now() - 20_000;
  const run = await ok(call('/v1/dr/plans/shop/failover', post({ type: 'test' })), 201);
  // biome-ignore lint/suspicious/noExplicitAny: the run under test
  const show = async (): Promise<any> => ok(call(`/v1/dr/runs/${run.id}`));
  // biome-ignore lint/suspicious/noExplicitAny: the run under test
  const step = (r: any, name: string) => r.steps.find((s: { name: string }) => s.name === name);
  const passes = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await server.background.runNow('dr-plan-runs');
      for (const site of [dc1, dc2]) await site.poll();
    }
  };

  // The start of db is queued and taken by the site, but its answer is held back.
  dc2.override = (c) => (c.kind === 'start' ? 'hold' : undefined);
  await passes(4);
  assert.equal(step(await show(), 'start/db').state, 'running');
  assert.deepEqual(dc2.kinds(), ['materialise', 'start']);

  await server.close();
  server = await start();
  dc2.override = undefined;
  await passes(4);
  let now = await show();
  assert.equal(step(now, 'start/db').state, 'succeeded', JSON.stringify(step(now, 'start/db')));
  assert.equal(step(now, 'check-db').state, 'running');

  // Again while the manual action waits: the wait is in the catalog too.
  await server.close();
  server = await start();
  await passes(2);
  assert.equal(step(await show(), 'check-db').state, 'running');
  await ok(call(`/v1/dr/runs/${run.id}/confirm`, post({ action: 'check-db' })));
  await passes(4);
  now = await show();
  assert.equal(now.state, 'succeeded', now.error);
  assert.deepEqual(dc2.kinds(), ['materialise', 'start', 'probe', 'materialise', 'start', 'probe']);
  assert.deepEqual(dc1.seen, []);
  assert.ok(now.rpoSeconds >= 20, `RPO ${now.rpoSeconds}`);
  assert.equal(typeof now.rtoSeconds, 'number');
});

// Recovery plans and the failover runner through the real server (injected clock, the
// runner advanced with background runNow), with the site agents played by real HTTPS
// clients holding real site-agent certificates, answering commands through the real
// site-agent routes per the command contract. Group order and parallelism, manual
// confirmation, actions limited to some failover types, on-error policies, a failed
// health check, fencing before an unplanned start, RTO and RPO, commit, reprotect,
// failback, test cleanup, and the 90-day drill flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashToken, newToken } from '../src/server/index.ts';
import { type Role, SqliteCatalog } from '../src/vault/catalog/index.ts';
import { type PlayedSite, playSite } from './helpers/dr-site-player.ts';
import type { RawOptions } from './helpers/https.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const DAY = 86_400_000;
const post = (body?: unknown): RawOptions => ({
  method: 'POST',
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

function workload(name: string, port: number) {
  return {
    name,
    dataPaths: [`/srv/${name}`],
    start: `./start-${name}`,
    stop: `./stop-${name}`,
    health: { type: 'tcp', host: '127.0.0.1', port },
    primarySite: 'dc1',
    replicaSite: 'dc2',
    replication: { frequency: '30s' },
  };
}

async function ok(r: Promise<{ status: number; text: string; json: () => unknown }>, status = 200) {
  const answer = await r;
  assert.equal(answer.status, status, answer.text);
  // biome-ignore lint/suspicious/noExplicitAny: answers under test
  return answer.json() as any;
}

interface World {
  dc1: PlayedSite;
  dc2: PlayedSite;
}

/** A vault, two sites with played agents, three workloads at dc1 replicated to dc2, and plans. */
async function world(v: TestVault, plans: unknown[]): Promise<World> {
  await ok(v.call('/v1/vaults', post({ name: 'dr', region: 'local' })), 201);
  for (const name of ['dc1', 'dc2']) await ok(v.call('/v1/sites', post({ name, vault: 'dr' })), 201);
  const server = () => ({ url: v.server.url, caPem: v.server.caPem });
  const dc1 = await playSite(v.call, server, 'dc1', v.clock.now);
  const dc2 = await playSite(v.call, server, 'dc2', v.clock.now);
  const workloads = [workload('db', 5432), workload('api', 8080), workload('web', 8443)];
  await ok(v.call('/v1/dr/workloads', { method: 'PUT', body: JSON.stringify({ workloads }) }));
  await ok(v.call('/v1/dr/plans', { method: 'PUT', body: JSON.stringify({ plans }) }));
  return { dc1, dc2 };
}

const THREE_TIER = {
  name: 'shop',
  groups: [
    {
      name: 'data',
      workloads: ['db'],
      post: [{ type: 'manual', name: 'check-db', message: 'look at the orders table' }],
    },
    {
      name: 'apps',
      workloads: ['api', 'web'],
      pre: [
        {
          type: 'script',
          name: 'dns',
          site: 'dc2',
          command: './switch-dns',
          onlyFor: ['planned', 'unplanned'],
        },
        { type: 'delay', name: 'settle', duration: '5s', onlyFor: ['test'] },
      ],
    },
  ],
};

// biome-ignore lint/suspicious/noExplicitAny: runs under test
type Run = any;

async function runOf(v: TestVault, id: string): Promise<Run> {
  return ok(v.call(`/v1/dr/runs/${id}`));
}

const db = (list: Run[]) => list.find((w: { name: string }) => w.name === 'db');
const stepOf = (run: Run, name: string) => run.steps.find((s: { name: string }) => s.name === name);

/** Runner pass, every up site polls and answers, runner pass — until `done` holds. */
async function drive(
  v: TestVault,
  sites: PlayedSite[],
  done: (run: Run) => boolean,
  id: string,
): Promise<Run> {
  for (let i = 0; i < 40; i++) {
    await v.server.background.runNow('dr-plan-runs');
    for (const site of sites) await site.poll();
    await v.server.background.runNow('dr-plan-runs');
    const run = await runOf(v, id);
    if (done(run)) return run;
  }
  assert.fail(`the run never got there: ${JSON.stringify(await runOf(v, id), null, 1)}`);
}

test('a test failover: groups in order, side by side inside one, a manual confirm, type-limited actions, cleanup, drills', async (t) => {
  const v = await startTestVault(t);
  const { dc1, dc2 } = await world(v, [THREE_TIER]);
  dc2.pointTime = v.clock.now() - 30_000;
  const started = await ok(v.call('/v1/dr/plans/shop/failover', post({ type: 'test' })), 201);
  assert.equal(started.state, 'running');
  assert.equal(started.portOffset, 10_000);

  // The first group alone, up to its manual action, which holds the run.
  let run = await drive(v, [dc1, dc2], (r) => stepOf(r, 'check-db').state === 'running', started.id);
  assert.deepEqual(dc2.kinds(), ['materialise', 'start', 'probe']);
  assert.deepEqual(
    dc2.seen.map((c) => c.payload.workload),
    ['db', 'db', 'db'],
  );
  const start = dc2.seen.find((c) => c.kind === 'start')!;
  assert.deepEqual(start.payload, {
    workload: 'db',
    epoch: 1,
    mode: 'test',
    runId: started.id,
    portOffset: 10_000,
  });
  for (let i = 0; i < 3; i++) {
    await v.server.background.runNow('dr-plan-runs');
    await dc2.poll();
  }
  assert.equal(dc2.seen.length, 3, 'nothing of the next group before the confirmation');
  assert.equal((await runOf(v, started.id)).state, 'running');
  const early = await v.call(`/v1/dr/runs/${started.id}/confirm`, post({ action: 'settle' }));
  assert.equal(early.status, 404, early.text);
  await ok(v.call(`/v1/dr/runs/${started.id}/confirm`, post({ action: 'check-db' })));

  // The script only for real failovers is skipped; the test's delay waits for the clock.
  run = await drive(v, [dc1, dc2], (r) => stepOf(r, 'settle').state === 'running', started.id);
  assert.equal(stepOf(run, 'dns').state, 'skipped');
  assert.deepEqual(stepOf(run, 'dns').onlyFor, ['planned', 'unplanned']);
  assert.equal(dc2.kinds().includes('script'), false);
  await v.server.background.runNow('dr-plan-runs');
  assert.equal(stepOf(await runOf(v, started.id), 'settle').state, 'running');
  v.clock.advance(6000);

  // The second group's two workloads are asked for at once: side by side.
  dc2.override = (c) => (c.kind === 'materialise' ? 'hold' : undefined);
  run = await drive(v, [dc2], () => dc2.kinds().filter((k) => k === 'materialise').length === 3, started.id);
  assert.deepEqual(
    dc2.seen
      .filter((c) => c.kind === 'materialise')
      .map((c) => c.payload.workload)
      .slice(1)
      .sort(),
    ['api', 'web'],
  );
  dc2.override = undefined;
  run = await drive(v, [dc1, dc2], (r) => r.state !== 'running', started.id);
  assert.equal(run.state, 'succeeded', JSON.stringify(run, null, 1));
  assert.deepEqual(dc1.seen, [], 'the primary is left alone');
  assert.ok(run.rpoSeconds >= 30 && run.rpoSeconds < 120, `RPO ${run.rpoSeconds}`);
  assert.ok(run.rtoSeconds >= 6, `RTO ${run.rtoSeconds} includes the delay`);
  assert.ok(run.steps.every((s: { state: string }) => s.state === 'succeeded' || s.state === 'skipped'));

  // Another test waits for this one's cleanup; the cleanup checks leftovers.
  const busy = await v.call('/v1/dr/plans/shop/failover', post({ type: 'test' }));
  assert.equal(busy.status, 409, busy.text);
  assert.equal(busy.json().error, 'RUN_IN_PROGRESS');
  dc2.leftovers = ['pid 4242 of db'];
  await ok(v.call(`/v1/dr/runs/${started.id}/cleanup`, post()));
  run = await drive(v, [dc2], (r) => r.cleanup !== 'running', started.id);
  assert.equal(run.cleanup, 'failed');
  assert.match(stepOf(run, 'cleanup/dc2/1').detail, /LEFTOVERS: pid 4242 of db/);
  dc2.leftovers = [];
  await ok(v.call(`/v1/dr/runs/${started.id}/cleanup`, post()));
  run = await drive(v, [dc2], (r) => r.cleanup !== 'running', started.id);
  assert.equal(run.cleanup, 'succeeded');
  assert.deepEqual(
    dc2.seen.filter((c) => c.kind === 'cleanup-test').map((c) => c.payload),
    [{ runId: started.id }, { runId: started.id }],
  );

  // Drill history and the 90-day flag.
  const runs = await ok(v.call('/v1/dr/runs?plan=shop'));
  assert.deepEqual(
    runs.runs.map((r: Run) => [r.id, r.type, r.state]),
    [[started.id, 'test', 'succeeded']],
  );
  const drills = await ok(v.call('/v1/dr/drills'));
  assert.deepEqual(
    drills.workloads.map((w: Run) => [w.name, w.testOverdue]),
    [
      ['api', false],
      ['db', false],
      ['web', false],
    ],
  );
  v.clock.advance(91 * DAY);
  const later = await ok(v.call('/v1/dr/drills'));
  assert.ok(later.workloads.every((w: Run) => w.testOverdue && w.lastTestAt === run.finishedAt));
});

test('on error: continue goes on, fail stops the run; a failed health check fails it', async (t) => {
  const v = await startTestVault(t);
  const lenient = {
    name: 'lenient',
    groups: [
      {
        name: 'one',
        workloads: ['db'],
        pre: [{ type: 'script', site: 'dc2', command: 'false', onError: 'continue' }],
      },
      { name: 'two', workloads: ['api'] },
    ],
  };
  const strict = {
    name: 'strict',
    groups: [{ name: 'one', workloads: ['web'], pre: [{ type: 'script', site: 'dc2', command: 'false' }] }],
  };
  const { dc1, dc2 } = await world(v, [lenient, strict]);
  dc2.scriptExit = 3;
  dc2.unhealthy.add('api');
  const first = await ok(v.call('/v1/dr/plans/lenient/failover', post({ type: 'test' })), 201);
  const run = await drive(v, [dc1, dc2], (r) => r.state !== 'running', first.id);
  assert.equal(run.state, 'failed');
  assert.equal(stepOf(run, 'one-pre-1').state, 'failed');
  assert.equal(stepOf(run, 'start/db').state, 'succeeded', 'the failed script was let pass');
  assert.equal(stepOf(run, 'health/api').state, 'failed');
  assert.match(run.error, /health\/api.*UNHEALTHY/);
  assert.equal(run.rtoSeconds, null, 'no RTO without every health check passed');

  const second = await ok(v.call('/v1/dr/plans/strict/failover', post({ type: 'test' })), 201);
  const stopped = await drive(v, [dc1, dc2], (r) => r.state !== 'running', second.id);
  assert.equal(stopped.state, 'failed');
  assert.match(stopped.error, /one-pre-1.*SCRIPT_FAILED: exit 3/);
  assert.deepEqual(
    stopped.steps.map((s: Run) => s.state),
    ['failed', 'skipped', 'skipped', 'skipped'],
  );
  assert.equal(dc2.kinds('web').length, 0, 'nothing of the workload was started');
});

test('unplanned: fenced before the target starts; RTO and RPO; commit, reprotect, failback', async (t) => {
  const v = await startTestVault(t);
  const { dc1, dc2 } = await world(v, [{ name: 'shop', groups: [{ name: 'all', workloads: ['db'] }] }]);
  dc1.up = false; // the primary site is gone
  dc2.pointTime = v.clock.now() - 45_000;
  const started = await ok(v.call('/v1/dr/plans/shop/failover', post({ type: 'unplanned' })), 201);
  await v.server.background.runNow('dr-plan-runs');
  // The fence came first: epoch 2 at dc2 before anything was asked of dc2.
  const status = await ok(v.call('/v1/dr/status'));
  assert.deepEqual([db(status.workloads).activeSite, db(status.workloads).fencingEpoch], ['dc2', 2]);
  const toOld = await ok(v.call('/v1/sites/dc1/commands'));
  assert.deepEqual(
    toOld.commands.map((c: Run) => [c.kind, c.payload, c.state]),
    [['fence', { workload: 'db', epoch: 2 }, 'queued']],
  );
  let run = await drive(v, [dc2], (r) => r.state !== 'running', started.id);
  assert.equal(run.state, 'succeeded', run.error);
  assert.deepEqual(dc2.kinds(), ['materialise', 'start', 'probe']);
  assert.equal(dc2.seen.find((c) => c.kind === 'start')!.payload.epoch, 2);
  assert.equal(dc2.seen.find((c) => c.kind === 'materialise')!.payload.point, 'latest');
  assert.ok(run.rpoSeconds >= 45 && run.rpoSeconds < 200, `RPO ${run.rpoSeconds}`);
  assert.equal(typeof run.rtoSeconds, 'number');
  assert.equal(stepOf(run, 'fence/db').state, 'succeeded');
  assert.ok(stepOf(run, 'fence/db').finishedAt <= stepOf(run, 'materialise/db').startedAt);
  assert.deepEqual(
    run.steps.map((s: Run) => s.name),
    ['fence/db', 'materialise/db', 'start/db', 'health/db'],
  );

  // The old primary returns: it learns epoch 2 and its stale start is refused.
  dc1.up = true;
  await dc1.poll();
  assert.equal(dc1.epochs.get('db'), 2);
  const beat = await dc1.heartbeat();
  assert.deepEqual([db(beat.workloads).activeSite, db(beat.workloads).fencingEpoch], ['dc2', 2]);

  const early = await v.call('/v1/dr/reprotect', post({ name: 'shop' }));
  assert.equal(early.status, 409, early.text);
  assert.equal(early.json().error, 'FAILOVER_NOT_COMMITTED');
  await ok(v.call(`/v1/dr/runs/${started.id}/commit`, post()));
  const reversed = await ok(v.call('/v1/dr/reprotect', post({ name: 'db' })));
  assert.deepEqual(reversed.workloads, [{ name: 'db', version: 2, primarySite: 'dc2', replicaSite: 'dc1' }]);
  assert.equal(db((await dc2.heartbeat()).workloads).role, 'primary');
  assert.equal(db((await dc1.heartbeat()).workloads).role, 'replica');

  // Failback: a planned failover back — stop, sync, fence (acknowledged), then start at dc1.
  const mark = Math.max(...[...dc1.seen, ...dc2.seen].map((c) => c.seq));
  const back = await ok(v.call('/v1/dr/plans/shop/failback', post()), 201);
  assert.equal(back.failback, true);
  assert.equal(back.type, 'planned');
  run = await drive(v, [dc1, dc2], (r) => r.state !== 'running', back.id);
  assert.equal(run.state, 'succeeded', run.error);
  const sequence = [...dc1.seen, ...dc2.seen]
    .filter((c) => c.seq > mark)
    .sort((a, b) => a.seq - b.seq)
    .map((c) => `${c.site}:${c.kind}`);
  assert.deepEqual(sequence, [
    'dc2:stop',
    'dc2:replicate-now',
    'dc2:fence',
    'dc1:materialise',
    'dc1:start',
    'dc1:probe',
  ]);
  assert.equal(dc1.seen.find((c) => c.kind === 'start')!.payload.epoch, 3);
  assert.equal(run.rpoSeconds, 0, 'planned: zero data loss');
  const final = await ok(v.call('/v1/dr/status'));
  assert.deepEqual([db(final.workloads).activeSite, db(final.workloads).fencingEpoch], ['dc1', 3]);
});

async function tokenFor(v: TestVault, role: Role, vaultName: string | null): Promise<string> {
  const token = newToken();
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    const vaultId = vaultName === null ? null : (await catalog.getVaultByName(vaultName)).id;
    await catalog.createToken({
      tokenHash: hashToken(token),
      name: `${role} ${vaultName ?? 'all'}`,
      role,
      vaultId,
      createdAt: v.clock.now(),
      expiresAt: null,
    });
  } finally {
    await catalog.close();
  }
  return token;
}

test("roles and scope: a failover is an owner's act; another vault's plans and runs do not exist", async (t) => {
  const v = await startTestVault(t);
  await world(v, [{ name: 'shop', groups: [{ name: 'all', workloads: ['db'] }] }]);
  await ok(v.call('/v1/vaults', post({ name: 'other', region: 'local' })), 201);
  const contributor = await tokenFor(v, 'contributor', null);
  const denied = await v.call('/v1/dr/plans/shop/failover', {
    ...post({ type: 'test' }),
    token: contributor,
  });
  assert.equal(denied.status, 403, denied.text);
  assert.equal((await v.call('/v1/dr/plans', { token: contributor })).status, 200);

  const run = await ok(v.call('/v1/dr/plans/shop/failover', post({ type: 'test' })), 201);
  const stranger = await tokenFor(v, 'owner', 'other');
  for (const [path, options] of [
    ['/v1/dr/plans/shop', {}],
    [`/v1/dr/runs/${run.id}`, {}],
    [`/v1/dr/runs/${run.id}/cleanup`, post()],
    ['/v1/dr/plans/shop/failover', post({ type: 'test' })],
  ] as const) {
    const r = await v.call(path, { ...options, token: stranger });
    assert.equal(r.status, 404, `${path}: ${r.text}`);
  }
  assert.deepEqual((await ok(v.call('/v1/dr/plans', { token: stranger }))).plans, []);
  assert.deepEqual((await ok(v.call('/v1/dr/runs', { token: stranger }))).runs, []);

  const bad = await v.call(
    '/v1/dr/plans/shop/failover',
    post({ type: 'planned', point: 'latest-consistent' }),
  );
  assert.equal(bad.status, 400, bad.text);
  const broken = await v.call('/v1/dr/plans', {
    method: 'PUT',
    body: JSON.stringify({ plans: [{ name: 'x', groups: [{ name: 'g', workloads: ['nope'] }] }] }),
  });
  assert.equal(broken.status, 400, broken.text);
  assert.match(broken.json().message, /plans\[0\]\.groups\[0\]\.workloads\[0\]: no workload named "nope"/);
});

// The agent daemon's loop with real backups into a real vault (HTTPS on loopback, real
// SQLite, real files), on a clock the test moves: a 1-minute schedule runs on time
// across both daylight-saving changes of Europe/Paris, a daemon stopped over several
// scheduled times catches up once, and job reports made while the vault was down wait
// in the journal and reach the vault when it is back (refused ones are dropped, not
// retried forever). The real `offsite agent run` process is tested in
// agent-daemon-process.test.ts.
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DaemonEvent, journalDir, runDaemon, scheduleSummary } from '../src/agent/daemon/index.ts';
import { appendReport } from '../src/agent/daemon/journal.ts';
import { type AgentState, saveAgentState, vaultRepoStore } from '../src/agent/index.ts';
import { deliverJournal } from '../src/agent/jobs.ts';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { startServer } from '../src/server/index.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { agentStateOf, registerTestAgent, startTestVault, type TestVault } from './helpers/vault.ts';

type T = Parameters<typeof startTestVault>[0];
const PASSPHRASE = 'passphrase of the daemon test';
const post = (value: unknown) => ({ method: 'POST', body: JSON.stringify(value) });
const put = (value: unknown) => ({ method: 'PUT', body: JSON.stringify(value) });

interface Setup {
  v: TestVault;
  agent: AgentState;
  src: string;
}

/** A clock that jumps: sleeping moves it forward at once (after `hold`, when the test set one). */
function jumpingClock(start: string) {
  let now = Date.parse(start);
  const clock = {
    hold: undefined as Promise<unknown> | undefined,
    now: () => now,
    sleep: async (ms: number, signal: AbortSignal) => {
      await clock.hold;
      if (!signal.aborted) now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
    set: (iso: string) => {
      now = Date.parse(iso);
    },
  };
  return clock;
}

async function setPolicy(v: TestVault, schedule: Record<string, unknown>, src: string) {
  const policy = { schedule, retention: { daily: 30 }, sources: { paths: [src], excludes: ['*.tmp'] } };
  const r = await v.call('/v1/vaults/prod/policy', put(policy));
  assert.equal(r.status, 200, r.text);
}

async function setup(t: T, schedule: Record<string, unknown>): Promise<Setup> {
  const v = await startTestVault(t);
  const created = await v.call('/v1/vaults', post({ name: 'prod', region: 'local' }));
  assert.equal(created.status, 201, created.text);
  const registered = await registerTestAgent(v, 'prod', 'web1');
  const agent = agentStateOf(v, registered, join(v.dir, 'agent'));
  await saveAgentState(agent);
  await Repository.init(vaultRepoStore(agent), PASSPHRASE, { kdf: fastKdfParams() });
  const src = join(v.dir, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'alpha\n');
  await writeFile(join(src, 'sub', 'b.txt'), 'beta\n'.repeat(1000));
  await writeFile(join(src, 'scratch.tmp'), 'excluded by the policy\n');
  await setPolicy(v, schedule, src);
  return { v, agent, src };
}

/** Runs the daemon until `done` says so (checked after each event); returns its events. */
async function runUntil(
  s: Setup,
  clock: ReturnType<typeof jumpingClock>,
  done: (e: DaemonEvent, all: DaemonEvent[]) => boolean,
): Promise<DaemonEvent[]> {
  const events: DaemonEvent[] = [];
  const stop = new AbortController();
  const result = await runDaemon({
    agentDir: s.agent.dir,
    clock,
    stop: stop.signal,
    passphrase: async () => PASSPHRASE,
    hostname: 'web1',
    log: (e) => {
      events.push(e);
      if (e.level === 'error' && e.event === 'cycle-failed') stop.abort();
      if (done(e, events)) stop.abort();
    },
  });
  assert.equal(result.abandoned, false);
  assert.equal(events.at(-1)?.event, 'stopped');
  assert.ok(!events.some((e) => e.event === 'cycle-failed'), JSON.stringify(events));
  return events;
}

async function points(v: TestVault): Promise<{ time: string; stats: Record<string, unknown> }[]> {
  const r = await v.call('/v1/vaults/prod/points');
  assert.equal(r.status, 200, r.text);
  return (r.json().points as { time: string; stats: Record<string, unknown> }[]).sort((a, b) =>
    a.time.localeCompare(b.time),
  );
}

const started = (events: DaemonEvent[]) => events.filter((e) => e.event === 'backup-started');
const isoMinute = (iso: string) => iso.slice(0, 16);

test('a 1-minute schedule runs on time across the spring-forward change in Paris', async (t) => {
  // 2027-03-28: Paris clocks go from 02:00 CET to 03:00 CEST (01:00 UTC). 01:58 and 01:59
  // are CET, 03:00 and 03:01 CEST: four runs one minute apart; 02:30 does not exist and
  // runs at 03:30 CEST (01:30 UTC), the skipped hour's width later.
  const times = ['01:58', '01:59', '02:30', '03:00', '03:01'];
  const s = await setup(t, { times, timeZone: 'Europe/Paris' });
  const clock = jumpingClock('2027-03-28T00:57:30Z');
  const events = await runUntil(
    s,
    clock,
    (_, all) => started(all).length === 5 && _.event === 'backup-succeeded',
  );
  const slots = started(events).map((e) => e.slot);
  assert.deepEqual(slots, [
    '2027-03-28T00:58:00.000Z',
    '2027-03-28T00:59:00.000Z',
    '2027-03-28T01:00:00.000Z',
    '2027-03-28T01:01:00.000Z',
    '2027-03-28T01:30:00.000Z',
  ]);
  for (const e of started(events)) {
    assert.equal(e.time, e.slot, 'each backup started at its scheduled instant');
    assert.equal(e.reason, 'scheduled');
  }
  const inVault = await points(s.v);
  assert.deepEqual(
    inVault.map((p) => isoMinute(p.time)),
    slots.map((x) => isoMinute(String(x))),
    'a recovery point per run, timed by the run',
  );
  assert.equal(inVault[0]!.stats.filesNew, 2, 'the policy exclusion (*.tmp) was applied');
  assert.deepEqual(inVault[0]!.stats.paths, [s.src]);
});

test('a repeated fall-back hour in Paris runs each time once', async (t) => {
  // 2027-10-31: Paris clocks go from 03:00 CEST back to 02:00 CET (01:00 UTC): 02:29 to
  // 02:31 happen twice; each runs at its first occurrence only.
  const s = await setup(t, { times: ['02:29', '02:30', '02:31'], timeZone: 'Europe/Paris' });
  const clock = jumpingClock('2027-10-31T00:28:00Z');
  const events = await runUntil(s, clock, (e) => e.event === 'waiting' && String(e.next) >= '2027-11-01');
  assert.deepEqual(
    started(events).map((e) => e.time),
    ['2027-10-31T00:29:00.000Z', '2027-10-31T00:30:00.000Z', '2027-10-31T00:31:00.000Z'],
  );
  assert.equal(events.at(-2)?.next, '2027-11-01T01:29:00.000Z', 'the next is tomorrow 02:29 CET');
  assert.equal((await points(s.v)).length, 3);
});

test('a daemon stopped over several scheduled times catches up once', async (t) => {
  const times = ['10:00', '10:01', '10:02', '10:03'];
  const s = await setup(t, { times, timeZone: 'UTC' });
  const clock = jumpingClock('2027-01-05T09:59:30Z');
  const first = await runUntil(s, clock, (e) => e.event === 'backup-succeeded');
  assert.deepEqual(
    started(first).map((e) => e.slot),
    ['2027-01-05T10:00:00.000Z'],
  );
  // Stopped from 10:00 to 10:02:40: the 10:01 and 10:02 backups were missed.
  clock.set('2027-01-05T10:02:40Z');
  const again = await runUntil(s, clock, (e) => e.event === 'waiting');
  assert.deepEqual(
    started(again).map((e) => [e.slot, e.reason, e.time]),
    [['2027-01-05T10:02:00.000Z', 'catch-up', '2027-01-05T10:02:40.000Z']],
    'one backup for both missed times, at once',
  );
  assert.equal(again.at(-2)?.next, '2027-01-05T10:03:00.000Z', 'then back on schedule');
  assert.equal((await points(s.v)).length, 2);
  // A restart with nothing missed runs nothing.
  const quiet = await runUntil(s, clock, (e) => e.event === 'waiting');
  assert.equal(started(quiet).length, 0);

  const summary = await scheduleSummary(s.agent, { now: clock.now() });
  assert.equal(summary.json.daemon.running, false);
  assert.equal(summary.json.lastBackup?.status, 'succeeded');
  assert.equal(summary.json.lastBackup?.slot, '2027-01-05T10:02:00.000Z');
  assert.equal(summary.json.nextBackup, '2027-01-05T10:03:00.000Z');
  assert.match(
    summary.lines.join('\n'),
    /next backup: {2}2027-01-05T10:03:00.000Z \(5 Jan 2027, 10:03 UTC\)/,
  );
});

test('a policy changed in the vault applies at the next cycle, without a restart', async (t) => {
  const s = await setup(t, { times: ['10:00', '12:00'], timeZone: 'UTC' });
  const clock = jumpingClock('2027-01-05T09:59:30Z');
  let changed = false;
  const events = await runUntil(s, clock, (e, all) => {
    if (e.event === 'waiting' && e.next === '2027-01-05T12:00:00.000Z' && !changed) {
      changed = true;
      clock.hold = setPolicy(s.v, { times: ['10:30', '12:00'], timeZone: 'UTC' }, s.src);
    }
    return started(all).length === 2 && e.event === 'backup-succeeded';
  });
  assert.deepEqual(
    started(events).map((e) => e.time),
    ['2027-01-05T10:00:00.000Z', '2027-01-05T10:30:00.000Z'],
  );
  const policies = events.filter((e) => e.event === 'policy');
  assert.equal(policies.length, 2, 'the new policy was seen and logged');
});

/** The vault server again, on the same port and data, after it was closed. */
async function restartVault(t: T, v: TestVault) {
  const server = await startServer({
    dataDir: join(v.dir, 'data'),
    listen: `127.0.0.1:${v.server.port}`,
    regions: v.server.regions,
    log: () => {},
    now: v.clock.now,
    background: false,
  });
  t.after(() => server.close());
  return server;
}

async function jobs(v: TestVault) {
  const r = await v.call('/v1/vaults/prod/jobs?server=web1');
  assert.equal(r.status, 200, r.text);
  return r.json().jobs as { status: string; error: string | null; startedAt: string }[];
}

test('reports made while the vault is down wait in the journal and arrive when it is back', async (t) => {
  const s = await setup(t, { times: ['10:00', '10:01'], timeZone: 'UTC' });
  const clock = jumpingClock('2027-01-05T09:59:30Z');
  await runUntil(s, clock, (e) => e.event === 'backup-succeeded');
  await s.v.server.close();

  const down = await runUntil(s, clock, (e) => e.event === 'backup-failed');
  assert.ok(down.some((e) => e.event === 'vault-unreachable' && e.usingLastPolicy === true));
  assert.ok(down.some((e) => e.event === 'report-queued'));
  assert.equal(down.find((e) => e.event === 'backup-failed')?.slot, '2027-01-05T10:01:00.000Z');
  assert.equal((await readdir(journalDir(s.agent.dir))).filter((n) => n.endsWith('.json')).length, 1);
  const waiting = await scheduleSummary(s.agent, { now: clock.now() });
  assert.equal(waiting.json.reportsWaiting, 1);
  assert.equal(waiting.json.lastBackup?.status, 'failed');
  assert.equal(waiting.json.nextIsRetry, true);
  assert.equal(waiting.json.nextBackup, '2027-01-05T10:02:00.000Z', 'a retry a minute after the failure');

  await restartVault(t, s.v);
  const back = await runUntil(s, clock, (e) => e.event === 'backup-succeeded');
  const delivered = back.find((e) => e.event === 'reports-delivered');
  assert.equal(delivered?.count, 1);
  const retry = started(back)[0]!;
  assert.equal(retry.reason, 'retry');
  assert.equal(retry.time, '2027-01-05T10:02:00.000Z', 'retried a minute after the failure');
  assert.ok(back.indexOf(delivered!) < back.indexOf(retry), 'the old report went first');
  assert.deepEqual(
    (await readdir(journalDir(s.agent.dir))).filter((n) => n.endsWith('.json')),
    [],
  );
  const list = await jobs(s.v);
  assert.deepEqual(
    list.map((j) => j.status),
    ['succeeded', 'failed', 'succeeded'],
    'newest first: the retry, the failure reported late, the first backup',
  );
  assert.match(list[1]!.error ?? '', /cannot reach/);
  assert.equal((await points(s.v)).length, 2);
});

test('a report the vault refuses for good is dropped; later ones still go, also through offsite backup', async (t) => {
  const s = await setup(t, { times: ['10:00'], timeZone: 'UTC' });
  const base = {
    version: 1 as const,
    kind: 'backup',
    startedAt: new Date(Date.now() - 60_000).toISOString(),
  };
  // Unknown job (404), then a success the vault cannot accept: no point was committed (409).
  await appendReport(s.agent.dir, {
    ...base,
    jobId: '00000000-0000-4000-8000-000000000000',
    report: { status: 'failed', error: 'x' },
  });
  await appendReport(s.agent.dir, { ...base, report: { status: 'succeeded', bytes: 1 } });
  await appendReport(s.agent.dir, { ...base, report: { status: 'failed', error: 'disk on fire' } });
  const d = await deliverJournal(s.agent);
  assert.deepEqual(
    d.refused.map((r) => r.code),
    ['JOB_NOT_FOUND', 'BACKUP_NOT_COMMITTED'],
  );
  assert.equal(d.delivered, 1);
  assert.equal(d.pending, 0);
  assert.ok((await jobs(s.v)).some((j) => j.status === 'failed' && j.error === 'disk on fire'));

  // A report left in the journal is delivered by the next `offsite backup` too.
  const later = { ...base, startedAt: new Date(Date.now() - 30_000).toISOString() };
  await appendReport(s.agent.dir, { ...later, report: { status: 'failed', error: 'left over' } });
  const passwordFile = join(s.v.dir, 'pass');
  await writeFile(passwordFile, `${PASSPHRASE}\n`);
  const r = await runCli(['backup', s.src, '--json'], {
    OFFSITE_AGENT_DIR: s.agent.dir,
    OFFSITE_PASSWORD_FILE: passwordFile,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lastJson(r).point.id);
  const list = await jobs(s.v);
  assert.deepEqual(
    list.slice(0, 2).map((j) => [j.status, j.error]),
    [
      ['succeeded', null],
      ['failed', 'left over'],
    ],
  );
  assert.deepEqual(
    (await readdir(journalDir(s.agent.dir))).filter((n) => n.endsWith('.json')),
    [],
  );
});

test('a locked vault takes new sources but still refuses a retention reduction', async (t) => {
  const s = await setup(t, { times: ['10:00'], timeZone: 'UTC' });
  assert.equal((await s.v.call('/v1/vaults/prod/lock', { method: 'POST' })).status, 200);
  const schedule = { times: ['10:00'], timeZone: 'UTC' };
  const moved = { schedule, retention: { daily: 30 }, sources: { paths: ['/home'], excludes: [] } };
  const r = await s.v.call('/v1/vaults/prod/policy', put(moved));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json().policy.sources, { paths: ['/home'], excludes: [] });
  const fewer = await s.v.call('/v1/vaults/prod/policy', put({ ...moved, retention: { daily: 7 } }));
  assert.equal(fewer.status, 409);
  assert.equal(fewer.json().error, 'RETENTION_REDUCTION');
  const bad = await s.v.call('/v1/vaults/prod/policy', put({ ...moved, sources: { paths: ['home'] } }));
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /sources\.paths\[0\]: "home" is not an absolute path/);
});

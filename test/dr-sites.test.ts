// Disaster recovery's control plane end to end: the real vault server (injected clock),
// the real CLI, and two real `offsite site-agent run` processes in their own folders.
// Sites and site agents register, a workload file is applied, heartbeats carry inventory
// and replication health into `dr status`, commands make the round trip, a SIGKILLed
// site agent's site goes down with an alert and comes back up when it returns. Also: a
// site agent's certificate opens no vault agent route and no other site's command, and a
// vault agent's opens no site agent route.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSiteAgentState, renewCertificate, SiteClient, siteAgentFiles } from '../src/dr/agent/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { registerTestAgent, startTestVault, type TestVault } from './helpers/vault.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const SILENCE_MS = 60_000; // the server's default --site-down-after

/** A running `offsite site-agent run`, its stderr kept for failure messages. */
class SiteAgentProcess {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(
      process.execPath,
      [MAIN, 'site-agent', 'run', '--heartbeat-interval', '200ms', '--poll-interval', '200ms'],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child.stderr!.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  stop(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Polls until check returns a value (not undefined); fails with the last state after 30 s. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  state: () => string,
): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
  assert.fail(`${what} never happened; ${state()}`);
}

// biome-ignore lint/suspicious/noExplicitAny: the status document under test
async function status(v: TestVault): Promise<any> {
  const r = await v.call('/v1/dr/status');
  assert.equal(r.status, 200, r.text);
  return r.json();
}

// biome-ignore lint/suspicious/noExplicitAny: the status document under test
const siteOf = (s: any, name: string) => s.sites.find((x: { name: string }) => x.name === name);

function listen(server: Server): Promise<number> {
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)),
  );
}

function workloadYaml(port: number): string {
  return `workloads:
  - name: app
    dataPaths: [/srv/app-data]
    start: ./start.sh
    stop: ./stop.sh
    health: { type: tcp, host: 127.0.0.1, port: ${port}, timeout: 2s }
    primarySite: dc1
    replicaSite: dc2
    replication: { frequency: 30s, extraHourlyPoints: 4 }
`;
}

test('site agents register, report, run commands, and a silent site goes down with an alert', async (t) => {
  const v = await startTestVault(t);
  const work = await tempDir(t, 'offsite-dr-');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli([...args, '--json'], { ...v.env, ...env });
  assert.equal(
    (await v.call('/v1/vaults', { method: 'POST', body: JSON.stringify({ name: 'dr', region: 'local' }) }))
      .status,
    201,
  );

  // Sites, credentials files, and two site agents registered in their own folders.
  const dirs: Record<string, string> = {};
  for (const site of ['dc1', 'dc2']) {
    const created = await cli(['site', 'create', site, ...(site === 'dc1' ? ['--vault', 'dr'] : [])]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(lastJson(created).state, 'never-heard');
    const credentials = join(work, `${site}.json`);
    assert.equal((await cli(['site', 'credentials', site, '--out', credentials])).code, 0);
    dirs[site] = join(work, `agent-${site}`);
    const registered = await cli(['site-agent', 'register', '--credentials', credentials], {
      OFFSITE_SITE_AGENT_DIR: dirs[site],
    });
    assert.equal(registered.code, 0, registered.stderr);
    assert.equal(lastJson(registered).site.name, site);
    const files = siteAgentFiles(dirs[site]);
    assert.equal((await stat(files.key)).mode & 0o777, 0o600);
    assert.equal((await stat(files.cert)).mode & 0o777, 0o600);
    // Single use: the same file registers nothing a second time.
    const again = await cli(['site-agent', 'register', '--credentials', credentials, '--force'], {
      OFFSITE_SITE_AGENT_DIR: join(work, `again-${site}`),
    });
    assert.notEqual(again.code, 0);
    assert.equal(lastJson(again).error, 'SITE_CREDENTIALS_USED');
  }

  // The workload file, its health probe a TCP port this test listens on.
  const probed = createServer((socket) => socket.end());
  t.after(() => new Promise<void>((done) => probed.close(() => done())));
  const port = await listen(probed);
  const yamlFile = join(work, 'workloads.yaml');
  await writeFile(yamlFile, workloadYaml(port));
  const applied = await cli(['dr', 'apply', yamlFile]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual(lastJson(applied).workloads, [{ name: 'app', version: 1, change: 'created' }]);
  await writeFile(join(work, 'bad.yaml'), workloadYaml(port).replace('frequency: 30s', 'frequency: 1m'));
  const bad = await cli(['dr', 'apply', join(work, 'bad.yaml')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /workloads\[0\]\.replication\.frequency: must be one of 30s, 5m, 15m/);

  // The replica's replication health, as the data plane leaves it for the heartbeat.
  const pointAt = v.clock.now() - 45_000;
  await writeFile(
    siteAgentFiles(dirs.dc2!).replicationHealth,
    JSON.stringify([
      {
        workload: 'app',
        lastPointAt: new Date(pointAt).toISOString(),
        lastPointId: 'p1',
        consistent: false,
        lagMs: 45_000,
        error: null,
      },
    ]),
  );

  const envOf = (site: string) => ({ ...v.env, OFFSITE_SITE_AGENT_DIR: dirs[site]! });
  const agents: Record<string, SiteAgentProcess> = {
    dc1: new SiteAgentProcess(envOf('dc1')),
    dc2: new SiteAgentProcess(envOf('dc2')),
  };
  t.after(async () => {
    for (const agent of Object.values(agents)) await agent.stop('SIGKILL');
  });
  const agentLogs = () =>
    Object.entries(agents)
      .map(([s, a]) => `${s}: ${a.stderr.slice(-2000)}`)
      .join('\n');

  // Heartbeats with inventory, and the replica's health, in `dr status`.
  const seen = await eventually(
    'both sites up with their inventory and the replica health',
    async () => {
      const s = await status(v);
      const up = ['dc1', 'dc2'].every(
        (n) => siteOf(s, n)?.state === 'up' && siteOf(s, n)?.inventory?.workloads?.length === 1,
      );
      return up && s.workloads[0]?.replication ? s : undefined;
    },
    agentLogs,
  );
  assert.deepEqual(
    { ...siteOf(seen, 'dc1').inventory.workloads[0] },
    { name: 'app', version: 1, role: 'primary', fencingEpoch: 1, dataPaths: 1, dataPathsPresent: 0 },
  );
  assert.equal(siteOf(seen, 'dc2').inventory.workloads[0].role, 'replica');
  const [app] = seen.workloads;
  assert.equal(app.primarySite, 'dc1');
  assert.equal(app.replicaSite, 'dc2');
  assert.equal(app.activeSite, 'dc1');
  assert.equal(app.fencingEpoch, 1);
  assert.equal(app.frequency, '30s');
  assert.equal(app.replication.reportedBy, 'dc2');
  assert.equal(app.replication.lastPointId, 'p1');
  assert.equal(app.replication.lastPointAt, new Date(pointAt).toISOString());
  assert.ok(app.rpoSeconds >= 45, `RPO ${app.rpoSeconds}`);
  const text = await runCli(['dr', 'status'], v.env);
  assert.match(text.stdout, /app\s+dc1 -> dc2\s+dc1 \(epoch 1\)\s+30s/);

  // A command round trip each: a probe of the workload at dc1, a noop at dc2.
  const queue = async (site: string, body: unknown) => {
    const r = await v.call(`/v1/sites/${site}/commands`, { method: 'POST', body: JSON.stringify(body) });
    assert.equal(r.status, 201, r.text);
    return r.json().id as string;
  };
  const probeId = await queue('dc1', { kind: 'probe', payload: { workload: 'app' } });
  const noopId = await queue('dc2', { kind: 'noop' });
  const finished = async (site: string, id: string) =>
    eventually(
      `command ${id} at ${site} finished`,
      async () => {
        const c = (await v.call(`/v1/sites/${site}/commands/${id}`)).json();
        return c.finishedAt ? c : undefined;
      },
      agentLogs,
    );
  const probe = await finished('dc1', probeId);
  assert.equal(probe.state, 'succeeded');
  assert.equal(probe.result.healthy, true);
  assert.match(probe.result.steps[0].detail, new RegExp(`connected to 127\\.0\\.0\\.1:${port}`));
  assert.equal((await finished('dc2', noopId)).state, 'succeeded');

  // Certificates open only their own doors.
  const [dc1Cert, dc1Key, dc2Cert, dc2Key] = await Promise.all([
    readFile(siteAgentFiles(dirs.dc1!).cert, 'utf8'),
    readFile(siteAgentFiles(dirs.dc1!).key, 'utf8'),
    readFile(siteAgentFiles(dirs.dc2!).cert, 'utf8'),
    readFile(siteAgentFiles(dirs.dc2!).key, 'utf8'),
  ]);
  const asSite = (cert: string, key: string, path: string, method = 'GET', body?: string) =>
    https(v.server.caPem, v.server.url + path, { cert, key, method, ...(body ? { body } : {}) });
  for (const [method, path] of [
    ['GET', '/v1/agent/whoami'],
    ['POST', '/v1/agent/points'],
    ['POST', '/v1/agent/renew'],
  ] as const) {
    const r = await asSite(dc1Cert, dc1Key, path, method, method === 'POST' ? '{}' : undefined);
    assert.equal(r.status, 401, `${method} ${path}: ${r.text}`);
    assert.equal(r.json().error, 'AGENT_NOT_REGISTERED');
  }
  const stolen = await asSite(
    dc2Cert,
    dc2Key,
    `/v1/site-agent/commands/${probeId}/result`,
    'POST',
    JSON.stringify({ state: 'failed', result: {} }),
  );
  assert.equal(stolen.status, 404, stolen.text);
  assert.equal(stolen.json().error, 'COMMAND_NOT_FOUND');
  assert.equal((await v.call(`/v1/sites/dc1/commands/${probeId}`)).json().state, 'succeeded');
  const vaultAgent = await registerTestAgent(v, 'dr', 'web-1');
  for (const [method, path] of [
    ['POST', '/v1/site-agent/heartbeat'],
    ['GET', '/v1/site-agent/commands'],
    ['POST', `/v1/site-agent/commands/${noopId}/result`],
  ] as const) {
    const body =
      method === 'POST' ? JSON.stringify({ inventory: {}, state: 'failed', result: {} }) : undefined;
    const r = await vaultAgent.call(path, { method, ...(body ? { body } : {}) });
    assert.equal(r.status, 401, `${method} ${path}: ${r.text}`);
    assert.equal(r.json().error, 'SITE_AGENT_NOT_REGISTERED');
  }

  // dc1's agent dies; after the silence the site is down, with an alert.
  assert.equal(await agents.dc1!.stop('SIGKILL'), null);
  v.clock.advance(SILENCE_MS + 1000);
  const advancedAt = v.clock.now();
  await eventually(
    'a heartbeat from dc2 after the clock moved',
    async () => {
      const heard = siteOf(await status(v), 'dc2').lastHeartbeatAt;
      return Date.parse(heard) >= advancedAt ? true : undefined;
    },
    agentLogs,
  );
  await v.server.background.runNow('dr-site-silence');
  const down = await status(v);
  assert.equal(siteOf(down, 'dc1').state, 'down');
  assert.equal(siteOf(down, 'dc2').state, 'up');
  const alerts = (await v.call('/v1/vaults/dr/alerts')).json().alerts;
  const alert = alerts.find((a: { kind: string }) => a.kind === 'site-down');
  assert.ok(alert, JSON.stringify(alerts));
  assert.equal(alert.severity, 'critical');
  assert.equal(alert.state, 'open');
  assert.match(alert.message, /site "dc1" is down/);
  await v.server.background.runNow('dr-site-silence');
  assert.equal(
    (await v.call('/v1/vaults/dr/alerts'))
      .json()
      .alerts.filter((a: { kind: string }) => a.kind === 'site-down').length,
    1,
  );

  // It comes back: up again, the alert resolved.
  agents.dc1 = new SiteAgentProcess(envOf('dc1'));
  await eventually(
    'dc1 up again',
    async () => (siteOf(await status(v), 'dc1').state === 'up' ? true : undefined),
    agentLogs,
  );
  const all = (await v.call('/v1/vaults/dr/alerts?all=1')).json().alerts;
  const resolved = all.find((a: { id: string }) => a.id === alert.id);
  assert.equal(resolved.state, 'resolved');
  assert.equal(
    (await v.call('/v1/vaults/dr/alerts'))
      .json()
      .alerts.some((a: { kind: string }) => a.kind === 'site-down'),
    false,
  );

  // SIGTERM stops both cleanly.
  assert.equal(await agents.dc1.stop('SIGTERM'), 0, agents.dc1.stderr);
  assert.equal(await agents.dc2!.stop('SIGTERM'), 0, agents.dc2!.stderr);
  assert.match(agents.dc2!.stderr, /offsite site-agent: stopped/);

  // Renewal: a new key and certificate; the old certificate opens nothing any more.
  const before = (await loadSiteAgentState(dirs.dc2!))!;
  const client = new SiteClient({ server: v.server.url, ...before });
  const renewed = await renewCertificate(before, client);
  assert.notEqual(renewed.certPem, before.certPem);
  assert.deepEqual(await loadSiteAgentState(dirs.dc2!), renewed);
  const heartbeat = JSON.stringify({ inventory: {} });
  const old = await asSite(before.certPem, before.keyPem, '/v1/site-agent/heartbeat', 'POST', heartbeat);
  assert.equal(old.status, 401, old.text);
  const fresh = await asSite(renewed.certPem, renewed.keyPem, '/v1/site-agent/heartbeat', 'POST', heartbeat);
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal(fresh.json().workloads[0].name, 'app');
});

// Two disaster recovery sites for end-to-end tests: the real vault server, sites dc1 and
// dc2 with their site agents registered in separate folders and run as real
// `offsite site-agent run` processes (replication on loopback), workloads applied through
// the API, and commands queued through the server's catalog as the failover runner does.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerSiteAgent } from '../../src/dr/agent/index.ts';
import { isAlive, ProcessTable, terminateGroup } from '../../src/dr/agent/processes.ts';
import { SqliteCatalog } from '../../src/vault/catalog/index.ts';
import { tempDir } from './cli.ts';
import { startTestVault, type TestVault } from './vault.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

export class SiteAgentProcess {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(
      process.execPath,
      [
        MAIN,
        'site-agent',
        'run',
        '--heartbeat-interval',
        '300ms',
        '--poll-interval',
        '200ms',
        '--replication-listen',
        '127.0.0.1:0',
      ],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child.stderr!.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  stop(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

type T = Parameters<typeof startTestVault>[0];

// biome-ignore lint/suspicious/noExplicitAny: JSON documents under test
export type Json = any;

export interface DrWorld {
  v: TestVault;
  work: string;
  dirs: Record<string, string>;
  agents: Record<string, SiteAgentProcess>;
  startAgent: (site: string) => SiteAgentProcess;
  logs: () => string;
  /** Queues a command for a site through the catalog; resolves with its id. */
  queue: (site: string, kind: string, payload: Record<string, unknown>) => Promise<string>;
  /** Waits for a command to finish (up to waitMs) and returns it. */
  finished: (site: string, id: string, waitMs?: number) => Promise<Json>;
  /** queue + finished. */
  command: (site: string, kind: string, payload: Record<string, unknown>, waitMs?: number) => Promise<Json>;
  /** Moves the workload's fencing epoch to `site` (the runner's fence step on the server). */
  advanceFencing: (workload: string, site: string) => Promise<number>;
  status: () => Promise<Json>;
}

export async function startDrWorld(t: T & { after: (fn: () => Promise<void>) => void }): Promise<DrWorld> {
  const v = await startTestVault(t);
  const dirs: Record<string, string> = {};
  const agents: Record<string, SiteAgentProcess> = {};
  // Registered before the work folder's own clean-up, which runs first otherwise and
  // leaves no process table to read.
  t.after(async () => {
    for (const agent of Object.values(agents)) await agent.stop('SIGKILL');
    // Whatever a failed test left running: every workload group the site agents recorded.
    for (const dir of Object.values(dirs)) {
      for (const record of await new ProcessTable(join(dir, 'dr', 'processes')).list()) {
        if (await isAlive(record)) await terminateGroup(record.pid, 2000);
      }
    }
  });
  const work = await tempDir(t, 'offsite-dr-agent-');
  const created = await v.call('/v1/vaults', {
    method: 'POST',
    body: JSON.stringify({ name: 'dr', region: 'local' }),
  });
  assert.equal(created.status, 201, created.text);
  for (const site of ['dc1', 'dc2']) {
    const made = await v.call('/v1/sites', {
      method: 'POST',
      body: JSON.stringify({ name: site, vault: 'dr' }),
    });
    assert.equal(made.status, 201, made.text);
    const credentials = await v.call(`/v1/sites/${site}/credentials`, { method: 'POST' });
    assert.equal(credentials.status, 201, credentials.text);
    const file = join(work, `${site}-credentials.json`);
    await writeFile(file, credentials.text, { mode: 0o600 });
    dirs[site] = join(work, `agent-${site}`);
    await registerSiteAgent({ dir: dirs[site]!, credentialsFile: file, now: v.clock.now() });
  }
  const startAgent = (site: string) => {
    agents[site] = new SiteAgentProcess({ ...v.env, OFFSITE_SITE_AGENT_DIR: dirs[site]! });
    return agents[site];
  };
  const logs = () =>
    Object.entries(agents)
      .map(([s, a]) => `--- ${s}:\n${a.stderr.slice(-4000)}`)
      .join('\n');
  const withCatalog = async <R>(fn: (c: SqliteCatalog) => Promise<R>): Promise<R> => {
    const catalog = SqliteCatalog.open(v.server.files.catalog);
    try {
      return await fn(catalog);
    } finally {
      await catalog.close();
    }
  };
  const queue = (site: string, kind: string, payload: Record<string, unknown>) =>
    withCatalog(async (c) => {
      const row = await c.getSiteByName(site);
      return (
        await c.queueCommand({ siteId: row.id, kind, payload: payload as never, createdAt: v.clock.now() })
      ).id;
    });
  const finished = async (site: string, id: string, waitMs = 60_000) => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const r = await v.call(`/v1/sites/${site}/commands/${id}`);
      assert.equal(r.status, 200, r.text);
      const command = r.json();
      if (command.state === 'succeeded' || command.state === 'failed') return command;
      if (Date.now() > deadline)
        assert.fail(`command ${command.kind} at ${site} still ${command.state}\n${logs()}`);
      await sleep(100);
    }
  };
  const command = async (site: string, kind: string, payload: Record<string, unknown>, waitMs?: number) =>
    finished(site, await queue(site, kind, payload), waitMs);
  const advanceFencing = (workload: string, site: string) =>
    withCatalog(async (c) => {
      const w = (await c.listWorkloads({})).find((x) => x.name === workload)!;
      const target = await c.getSiteByName(site);
      return (await c.advanceFencing(w.id, target.id, v.clock.now())).epoch;
    });
  const status = async () => {
    const r = await v.call('/v1/dr/status');
    assert.equal(r.status, 200, r.text);
    return r.json();
  };
  return { v, work, dirs, agents, startAgent, logs, queue, finished, command, advanceFencing, status };
}

/** Polls until check returns a value (not undefined); fails with `state()` after waitMs. */
export async function eventually<R>(
  what: string,
  check: () => Promise<R | undefined>,
  state: () => string,
  waitMs = 60_000,
): Promise<R> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what} never happened\n${state()}`);
    await sleep(200);
  }
}

// Two disaster recovery sites around a vault server that runs as its own process
// (`offsite server`, background tasks on their real timers, SQLite catalog in its data
// folder), so a test can SIGKILL it and start a new one on the same data folder and port.
// Sites dc1 and dc2 have their site agents registered in separate folders and run as real
// `offsite site-agent run` processes (test/helpers/dr-workload-sites.ts), which keep
// trying while the server is gone and carry on with the new one.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerSiteAgent } from '../../src/dr/agent/index.ts';
import { isAlive, ProcessTable, terminateGroup } from '../../src/dr/agent/processes.ts';
import { SqliteCatalog } from '../../src/vault/catalog/index.ts';
import { tempDir } from './cli.ts';
import type { Json } from './dr-workload-sites.ts';
import { SiteAgentProcess } from './dr-workload-sites.ts';
import { killProcess, startVaultProcess } from './fault-vault.ts';
import { https, type RawAnswer, type RawOptions } from './https.ts';
import { freePort } from './ports.ts';

type T = { after: (fn: () => Promise<void>) => void };

export interface ChildDrWorld {
  work: string;
  /** The server's data folder (catalog.sqlite, CA, admin token). */
  data: string;
  /** OFFSITE_SERVER, OFFSITE_TOKEN and OFFSITE_CA_CERT for the CLI. */
  env: Record<string, string>;
  dirs: Record<string, string>;
  agents: Record<string, SiteAgentProcess>;
  /** The server process now (replaced by restart). */
  server: () => ChildProcess;
  /** SIGKILL of the server process; resolves once it is gone. */
  kill: () => Promise<void>;
  /** A new server process on the same data folder and port. */
  restart: () => Promise<void>;
  /** An HTTPS request to the server as the admin. */
  call: (path: string, options?: RawOptions) => Promise<RawAnswer>;
  /** call, expecting `status`; the answer's JSON. */
  ok: (path: string, options?: RawOptions, status?: number) => Promise<Json>;
  startAgent: (site: string) => SiteAgentProcess;
  /** The end of each site agent's log and of the server's. */
  logs: () => string;
  /** fn with the server's catalog opened from this process (the server may be running or dead). */
  withCatalog: <R>(fn: (c: SqliteCatalog) => Promise<R>) => Promise<R>;
  /** Queues a command for a site through the catalog, as the runner does; waits for its end. */
  command: (site: string, kind: string, payload: Record<string, unknown>, waitMs?: number) => Promise<Json>;
}

/** Stops the site agents, then every workload process group they recorded. */
async function stopSites(agents: Record<string, SiteAgentProcess>, dirs: Record<string, string>) {
  for (const agent of Object.values(agents)) await agent.stop('SIGKILL');
  for (const dir of Object.values(dirs)) {
    for (const record of await new ProcessTable(join(dir, 'dr', 'processes')).list()) {
      if (await isAlive(record)) await terminateGroup(record.pid, 2000);
    }
  }
}

/** The server's log without its request and task-tick lines. */
function quiet(log: string): string {
  return log
    .split('\n')
    .filter((line) => !/"msg":"(request|background task)"/.test(line))
    .join('\n');
}

export async function startChildDrWorld(t: T): Promise<ChildDrWorld> {
  const dirs: Record<string, string> = {};
  const agents: Record<string, SiteAgentProcess> = {};
  let server: ChildProcess | undefined;
  let serverLog = '';
  // Registered before the work folder's own clean-up, which would run first otherwise.
  t.after(async () => {
    if (server) await killProcess(server);
    await stopSites(agents, dirs);
  });
  const work = await tempDir(t, 'offsite-dr-kill-');
  const data = join(work, 'data');
  const spec = {
    data,
    regionUrl: `file://${join(work, 'region')}`,
    port: await freePort(),
    onLog: (text: string) => {
      serverLog = (serverLog + text).slice(-200_000);
    },
  };
  server = await startVaultProcess(spec);
  const url = `https://127.0.0.1:${spec.port}`;
  const caPem = await readFile(join(data, 'ca.pem'), 'utf8');
  const token = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
  const env = { OFFSITE_SERVER: url, OFFSITE_TOKEN: token, OFFSITE_CA_CERT: join(data, 'ca.pem') };
  const call = (path: string, o: RawOptions = {}) => https(caPem, url + path, { token, ...o });
  const ok = async (path: string, o: RawOptions = {}, status = 200) => {
    const answer = await call(path, o);
    assert.equal(answer.status, status, `${o.method ?? 'GET'} ${path}: ${answer.text}`);
    return answer.json();
  };
  const post = (body: unknown): RawOptions => ({ method: 'POST', body: JSON.stringify(body) });

  await ok('/v1/vaults', post({ name: 'dr', region: 'local' }), 201);
  for (const site of ['dc1', 'dc2']) {
    await ok('/v1/sites', post({ name: site, vault: 'dr' }), 201);
    const credentials = await call(`/v1/sites/${site}/credentials`, { method: 'POST' });
    assert.equal(credentials.status, 201, credentials.text);
    const file = join(work, `${site}-credentials.json`);
    await writeFile(file, credentials.text, { mode: 0o600 });
    dirs[site] = join(work, `agent-${site}`);
    await registerSiteAgent({ dir: dirs[site]!, credentialsFile: file, now: Date.now() });
  }

  const withCatalog = async <R>(fn: (c: SqliteCatalog) => Promise<R>): Promise<R> => {
    const catalog = SqliteCatalog.open(join(data, 'catalog.sqlite'));
    try {
      return await fn(catalog);
    } finally {
      await catalog.close();
    }
  };
  const logs = () =>
    [
      ...Object.entries(agents).map(([s, a]) => `--- ${s}:\n${a.stderr.slice(-4000)}`),
      `--- server (requests left out):\n${quiet(serverLog).slice(-6000)}`,
    ].join('\n');
  const command = async (site: string, kind: string, payload: Record<string, unknown>, waitMs = 90_000) => {
    const id = await withCatalog(async (c) => {
      const row = await c.getSiteByName(site);
      return (
        await c.queueCommand({ siteId: row.id, kind, payload: payload as never, createdAt: Date.now() })
      ).id;
    });
    const deadline = Date.now() + waitMs;
    for (;;) {
      const found = await ok(`/v1/sites/${site}/commands/${id}`);
      if (found.state === 'succeeded' || found.state === 'failed') return found;
      if (Date.now() > deadline) assert.fail(`command ${kind} at ${site} still ${found.state}\n${logs()}`);
      await sleep(150);
    }
  };
  return {
    work,
    data,
    env,
    dirs,
    agents,
    server: () => server!,
    kill: () => killProcess(server!),
    restart: async () => {
      await killProcess(server!);
      server = await startVaultProcess(spec);
    },
    call,
    ok,
    startAgent: (site) => {
      agents[site] = new SiteAgentProcess({ ...env, OFFSITE_SITE_AGENT_DIR: dirs[site]! });
      return agents[site];
    },
    logs,
    withCatalog,
    command,
  };
}

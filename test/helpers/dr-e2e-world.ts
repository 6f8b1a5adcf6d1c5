// The three-tier disaster recovery world for end-to-end tests: the real vault server with
// its `dr-plan-runs` task driven in a loop, two real site agents (dc1, dc2) in their own
// folders, and three real workloads (test/fixtures/dr): a PostgreSQL database (Debian's
// package), an HTTP API reading and writing it, a front HTTP service calling the API —
// applied with `offsite dr apply`, one plan of three ordered groups with `offsite dr plan
// apply`. Both sites share this machine: a real copy has the same data path and ports at
// either site (only one runs at a time); what must differ per site (PostgreSQL's live
// folder) comes from the site agent's environment (DR_SITE_HOME).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isAlive, ProcessTable } from '../../src/dr/agent/processes.ts';
import { startServer } from '../../src/server/index.ts';
import { type CliResult, lastJson, runCli } from './cli.ts';
import { freePort } from './dr-workload.ts';
import { type DrWorld, eventually, type Json, SiteAgentProcess, startDrWorld } from './dr-workload-sites.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/dr');
export const TIERS = ['db', 'api', 'front'] as const;

/** The newest PostgreSQL of Debian's package, or undefined when it is not installed. */
function postgresBinSync(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root) : [];
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  if (!newest || !existsSync(join(root, newest, 'bin', 'postgres'))) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8');
  if (!passwd.split('\n').some((l) => l.startsWith('postgres:'))) return undefined;
  return join(root, newest, 'bin');
}

async function postgresIds(): Promise<[number, number]> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('postgres:'))!;
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

export interface E2eWorld extends DrWorld {
  ports: { db: number; api: number; front: number };
  homes: Record<string, string>;
  dataPaths: { db: string; api: string; front: string };
  cli: (...args: string[]) => Promise<CliResult>;
  cliJson: (...args: string[]) => Promise<Json>;
  /** Starts the three tiers at dc1 for real (epoch 1), in order, each healthy. */
  startPrimary: () => Promise<void>;
  /** `dr failover shop --type T`; resolves with the finished run (`dr run show --json`). */
  failover: (type: string, extra?: string[]) => Promise<Json>;
  waitRun: (id: string, done?: (run: Json) => boolean) => Promise<Json>;
  /** Holds the server's failover runner (true) or lets it go again (false). */
  holdRunner: (held: boolean) => void;
  /**
   * Stops the vault server (close: no more requests, catalog closed) and starts a new one
   * on the same data dir and port, as a restarted server; the site agents keep running.
   */
  restartServer: () => Promise<void>;
  /** Kills the site agents and every workload process group they recorded. */
  shutdown: () => Promise<void>;
}

function spec(name: string, data: string, start: string, health: Json): Json {
  return {
    name,
    dataPaths: [data],
    start,
    // Only the copy this site agent started (never another site's on this shared machine);
    // waits for the copy to finish its own clean stop.
    stop: 'P="$OFFSITE_DR_PID"; [ -n "$P" ] || exit 0; kill -TERM "$P"; while kill -0 "$P" 2>/dev/null; do sleep 0.1; done',
    health,
    primarySite: 'dc1',
    replicaSite: 'dc2',
    replication: { frequency: '30s' },
  };
}

async function firstBaseBackup(bin: string, home: string, data: string): Promise<void> {
  const init = join(home, 'initdb');
  const args = ['-D', init, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--wal-segsize=1'];
  const setpriv = ['--reuid=postgres', '--regid=postgres', '--clear-groups', join(bin, 'initdb'), ...args];
  await promisify(execFile)('setpriv', setpriv, {
    cwd: home,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
  });
  await mkdir(join(data, 'backups'), { recursive: true });
  await promisify(execFile)('mv', [init, join(data, 'backups', String(Date.now()).padStart(15, '0'))]);
}

export async function startE2eWorld(t: Parameters<typeof startDrWorld>[0], bin: string): Promise<E2eWorld> {
  const world = await startDrWorld(t);
  const [uid, gid] = await postgresIds();
  await chmod(world.work, 0o755); // the postgres user reaches its live folders below
  const homes: Record<string, string> = {};
  for (const site of ['dc1', 'dc2']) {
    homes[site] = join(world.work, `home-${site}`);
    await mkdir(homes[site], { mode: 0o755 });
    await chown(homes[site], uid, gid);
  }
  const ports = { db: await freePort(), api: await freePort(), front: await freePort() };
  const dataPaths = {
    db: join(world.work, 'db', 'data'),
    api: join(world.work, 'api', 'conf'),
    front: join(world.work, 'front', 'conf'),
  };
  for (const tier of ['api', 'front'] as const) {
    await mkdir(dataPaths[tier], { recursive: true });
    await writeFile(join(dataPaths[tier], 'settings.json'), JSON.stringify({ tier }));
  }
  await firstBaseBackup(bin, homes.dc1!, dataPaths.db);
  const node = `'${process.execPath}'`;
  const portsEnv = `DB_PORT=${ports.db} API_PORT=${ports.api} FRONT_PORT=${ports.front}`;
  const workloads = [
    spec(
      'db',
      dataPaths.db,
      `DB_DATA='${dataPaths.db}' DB_BACKUP_EVERY_MS=3000 ${portsEnv} exec ${node} '${FIXTURES}/db.mjs'`,
      { type: 'tcp', host: '127.0.0.1', port: ports.db, timeout: '2s' },
    ),
    spec('api', dataPaths.api, `${portsEnv} exec ${node} '${FIXTURES}/api.mjs'`, {
      type: 'http',
      url: `http://127.0.0.1:${ports.api}/health`,
      timeout: '3s',
    }),
    spec('front', dataPaths.front, `${portsEnv} exec ${node} '${FIXTURES}/front.mjs'`, {
      type: 'http',
      url: `http://127.0.0.1:${ports.front}/health`,
      timeout: '4s',
    }),
  ];
  const cli = (...args: string[]) => runCli(args, world.v.env);
  const cliJson = async (...args: string[]) => {
    const r = await cli(...args, '--json');
    assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
    return lastJson(r);
  };
  await writeFile(join(world.work, 'workloads.yaml'), JSON.stringify({ workloads }));
  await cliJson('dr', 'apply', join(world.work, 'workloads.yaml'));
  const plan = {
    plans: [{ name: 'shop', groups: TIERS.map((tier) => ({ name: tier, workloads: [tier] })) }],
  };
  await writeFile(join(world.work, 'plan.yaml'), JSON.stringify(plan));
  await cliJson('dr', 'plan', 'apply', join(world.work, 'plan.yaml'));

  world.startAgent = (site: string) => {
    world.agents[site] = new SiteAgentProcess({
      ...world.v.env,
      OFFSITE_SITE_AGENT_DIR: world.dirs[site]!,
      DR_SITE_HOME: homes[site]!,
      PG_BIN: bin,
    });
    return world.agents[site];
  };
  const runner = driveRuns(world);
  let restarted = false;
  const shutdown = async () => {
    for (const writer of [...writers]) await writer.stop();
    await runner.stop();
    for (const agent of Object.values(world.agents)) await agent.stop('SIGKILL');
    for (const site of ['dc1', 'dc2']) {
      for (const r of await aliveAt(world, site)) process.kill(-r.pid, 'SIGKILL');
      await eventually(
        'workloads gone',
        async () => ((await aliveAt(world, site)).length ? undefined : true),
        world.logs,
      );
    }
    // A restarted server is this world's to close (startTestVault closes the first one).
    if (restarted) await world.v.server.close();
  };

  const waitRun = (id: string, done = (r: Json) => r.state !== 'running' && r.state !== 'pending') =>
    eventually(
      `run ${id} finished`,
      async () => {
        const r = await cliJson('dr', 'run', 'show', id);
        return done(r) ? r : undefined;
      },
      world.logs,
      150_000,
    );
  return {
    ...world,
    ports,
    homes,
    dataPaths,
    shutdown,
    holdRunner: runner.hold,
    restartServer: async () => {
      await restartServer(world);
      restarted = true;
    },
    cli,
    cliJson,
    waitRun,
    startPrimary: async () => {
      for (const tier of TIERS) {
        const c = await world.command('dc1', 'start', { workload: tier, epoch: 1, mode: 'real' });
        assert.equal(c.state, 'succeeded', `start ${tier}: ${JSON.stringify(c.result)}\n${world.logs()}`);
      }
    },
    failover: async (type, extra = []) => {
      const started = await cliJson('dr', 'failover', 'shop', '--type', type, ...extra);
      return waitRun(started.id);
    },
  };
}

/** The server's background runner for failover runs, every 300 ms unless held. */
function driveRuns(world: DrWorld): { stop: () => Promise<void>; hold: (held: boolean) => void } {
  let on = true;
  let held = false;
  const loop = (async () => {
    while (on) {
      if (!held) await world.v.server.background.runNow('dr-plan-runs').catch(() => {});
      await sleep(300);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
    },
    hold: (value) => {
      held = value;
    },
  };
}

async function restartServer(world: DrWorld): Promise<void> {
  const { v } = world;
  await v.server.close();
  const server = await startServer({
    dataDir: join(v.dir, 'data'),
    listen: new URL(v.server.url).host,
    regions: [{ name: 'local', url: `file://${join(v.dir, 'regions', 'local')}` }],
    log: (e) => v.logs.push(e),
    now: v.clock.now,
    background: false,
  });
  // The same URL and CA (same data dir): v.call, v.env and the site agents carry on.
  assert.equal(server.url, v.server.url);
  v.server = server;
}

/**
 * A test with its own world, skipped when PostgreSQL is not installed. The world is shut
 * down inside the test, before the test's temporary folders are removed (the database
 * supervisor writes base backups there until it is killed).
 */
export function e2eTest(name: string, body: (t: TestContext, world: E2eWorld) => Promise<void>): void {
  const bin = postgresBinSync();
  test(name, {
    skip: bin ? false : 'PostgreSQL binaries missing (apt-get install postgresql)',
  }, async (t) => {
    const world = await startE2eWorld(t, bin!);
    try {
      await body(t, world);
    } finally {
      await world.shutdown();
    }
  });
}

export interface Answer {
  status: number;
  body: Json;
  frontPid: number | undefined;
}

/** One HTTP request to a front service on loopback; undefined when nothing answers. */
export function front(port: number, method: string, path: string): Promise<Answer | undefined> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 5000, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        let body: Json = text;
        try {
          body = JSON.parse(text);
        } catch {}
        done({
          status: res.statusCode ?? 0,
          body,
          frontPid: Number(res.headers['x-front-pid']) || undefined,
        });
      });
    });
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The row ids the front service on `port` lists (through the API and the database). */
export async function idsAt(port: number): Promise<number[]> {
  const r = await front(port, 'GET', '/ids');
  assert.equal(r?.status, 200, JSON.stringify(r));
  return r.body as number[];
}

/** Writers still running: a failed test's are stopped with its world. */
const writers = new Set<Writer>();

/** Inserts a row through the front service every `everyMs`; keeps each acknowledged id. */
export class Writer {
  readonly acked: { id: number; at: number }[] = [];
  failures = 0;
  #on = true;
  readonly #loop: Promise<void>;

  constructor(port: number, everyMs: number) {
    writers.add(this);
    this.#loop = (async () => {
      while (this.#on) {
        const r = await front(port, 'POST', '/rows');
        if (r?.status === 200) this.acked.push({ id: Number(r.body.id), at: Date.now() });
        else this.failures++;
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#on = false;
    writers.delete(this);
    await this.#loop;
  }

  /** Resolves once `n` more rows are acknowledged than now. */
  more(n: number, state: () => string): Promise<true> {
    const target = this.acked.length + n;
    return eventually(
      `${n} more rows written`,
      async () => (this.acked.length >= target ? true : undefined),
      state,
    );
  }
}

/** The running (alive) records of a site's process table. */
export async function aliveAt(world: DrWorld, site: string): Promise<Json[]> {
  const records = await new ProcessTable(join(world.dirs[site]!, 'dr', 'processes')).list();
  const alive = [];
  for (const r of records) if (await isAlive(r)) alive.push(r);
  return alive;
}

/** The step of a run named `name` (e.g. `start/db`), for its detail in messages. */
export function stepsOf(r: Json): string {
  return (r.steps ?? [])
    .map((s: Json) => `${s.name} ${s.site ?? '-'} ${s.state} ${s.detail ?? ''}`)
    .join('\n');
}

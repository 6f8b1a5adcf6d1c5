// Two vault server instances behind different ports share one PostgreSQL catalog (a
// private server started here) and one file region. Three agents, registered through
// either instance, back up concurrently — two rounds, each agent through a different
// instance than it registered with or than the agent beside it — while both instances
// are asked to collect garbage at the same moments. Each cycle runs garbage collection
// exactly once, on the instance holding the task's lease in the catalog; when that
// instance stops, the other takes over; and every recovery point restores, through the
// instance that is left, identical to its source.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type LogEntry, type RunningServer, startServer } from '../src/server/index.ts';
import { PostgresCatalog } from '../src/vault/catalog/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { startTestPostgres } from './helpers/postgres.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree, mutateTree } from './helpers/tree-fixture.ts';

const MiB = 1024 * 1024;

interface Instance {
  name: string;
  server: RunningServer;
  logs: LogEntry[];
}

interface Agent {
  name: string;
  env: Record<string, string>;
  src: string;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function startInstance(name: string, dir: string, catalogUrl: string): Promise<Instance> {
  const logs: LogEntry[] = [];
  const server = await startServer({
    dataDir: join(dir, name),
    listen: '127.0.0.1:0',
    regions: [{ name: 'local', url: `file://${join(dir, 'region')}` }],
    catalogUrl,
    log: (e) => logs.push(e),
    background: false,
  });
  return { name, server, logs };
}

/** Instances share the CA: agents trust it, and it seals webhook secrets. */
async function shareCa(from: Instance, dir: string, to: string): Promise<void> {
  await mkdir(join(dir, to), { recursive: true, mode: 0o700 });
  await copyFile(from.server.files.caCert, join(dir, to, 'ca.pem'));
  await copyFile(from.server.files.caKey, join(dir, to, 'ca-key.pem'));
}

function adminEnv(instance: Instance, token: string) {
  const { server } = instance;
  return { OFFSITE_SERVER: server.url, OFFSITE_TOKEN: token, OFFSITE_CA_CERT: server.files.caCert };
}

async function register(dir: string, name: string, through: Record<string, string>): Promise<Agent> {
  const file = join(dir, `${name}.credentials`);
  await ok(['vault', 'credentials', 'prod', '--out', file], through);
  const env = {
    OFFSITE_AGENT_DIR: join(dir, `agent-${name}`),
    OFFSITE_PASSWORD_FILE: join(dir, `${name}.pass`),
  };
  await writeFile(env.OFFSITE_PASSWORD_FILE, `passphrase of ${name} long enough\n`, { mode: 0o600 });
  await ok(['agent', 'register', '--credentials', file, '--name', name], env);
  return { name, env, src: join(dir, `src-${name}`) };
}

/** Points the agent at another instance: its certificate is good on every one. */
async function switchInstance(agent: Agent, instance: Instance): Promise<void> {
  const file = join(agent.env.OFFSITE_AGENT_DIR!, 'agent.json');
  const info = JSON.parse(await readFile(file, 'utf8'));
  info.server = instance.server.url;
  await writeFile(file, `${JSON.stringify(info, null, 2)}\n`);
}

function gcRuns(instances: readonly Instance[]): number {
  return instances.flatMap((i) => i.logs).filter((e) => e.msg === 'background task' && e.task === 'gc')
    .length;
}

/** Both instances are asked at once, cycle after cycle, until `busy` settles. */
async function gcCyclesDuring(a: Instance, b: Instance, busy: Promise<unknown>) {
  let done = false;
  const settled = busy.finally(() => {
    done = true;
  });
  const cycles: { ran: string[] }[] = [];
  while (!done || cycles.length === 0) {
    const results = await Promise.all([a.server.background.runNow('gc'), b.server.background.runNow('gc')]);
    cycles.push({ ran: [a, b].filter((_, i) => results[i]!.ran).map((x) => x.name) });
  }
  await settled;
  return cycles;
}

function requestsServed(instance: Instance, method: string, route: string): number {
  return instance.logs.filter(
    (e) => e.msg === 'request' && e.method === method && e.route === route && Number(e.status) < 300,
  ).length;
}

test('three agents back up through two instances sharing a PostgreSQL catalog; GC runs once per cycle; every point restores', async (t) => {
  const dir = await tempDir(t, 'offsite-multi-');
  const pg = await startTestPostgres(t);
  await pg.sql('postgres', 'CREATE DATABASE offsite');
  const catalogUrl = pg.url('offsite');

  const a = await startInstance('a', dir, catalogUrl);
  t.after(() => a.server.close());
  await shareCa(a, dir, 'b');
  const b = await startInstance('b', dir, catalogUrl);
  t.after(() => b.server.close());
  assert.equal(b.server.caPem, a.server.caPem, 'one CA for both');
  const token = (await readFile(a.server.files.adminToken, 'utf8')).trim();
  const viaA = adminEnv(a, token);
  const viaB = adminEnv(b, token);

  await ok(['vault', 'create', 'prod', '--region', 'local'], viaA);
  // Credentials from either instance; each agent then backs up through its own choice.
  const web1 = await register(dir, 'web1', viaA);
  const web2 = await register(dir, 'web2', viaB);
  const web3 = await register(dir, 'web3', viaA);
  await switchInstance(web3, b);
  const agents = [web1, web2, web3];
  const seeds = [11, 12, 13];
  await Promise.all(
    agents.map(async (agent, i) => {
      await makeTree(agent.src, { smallFiles: 60, largeFileBytes: 3 * MiB, seed: seeds[i]! });
      await ok(['init'], agent.env);
    }),
  );

  // Round 1: concurrent backups, garbage collection asked of both instances meanwhile.
  const round1 = Promise.all(agents.map((agent) => ok(['backup', agent.src], agent.env)));
  const cycles1 = await gcCyclesDuring(a, b, round1);
  const first = await round1;
  for (const [i, agent] of agents.entries()) {
    const target = join(dir, `first-${agent.name}`);
    await ok(['restore', first[i].id, '--target', target], agent.env);
    assert.deepEqual(await compareTrees(agent.src, join(target, agent.src)), [], agent.name);
  }

  // Round 2: changed data, incremental backups, web1 now through b and web2 through a.
  await switchInstance(web1, b);
  await switchInstance(web2, a);
  await Promise.all(agents.map((agent, i) => mutateTree(agent.src, 0.2, seeds[i]! + 100)));
  const round2 = Promise.all(agents.map((agent) => ok(['backup', agent.src], agent.env)));
  const cycles2 = await gcCyclesDuring(a, b, round2);
  const second = await round2;

  const cycles = [...cycles1, ...cycles2];
  for (const [n, cycle] of cycles.entries()) assert.equal(cycle.ran.length, 1, `GC cycle ${n + 1}`);
  assert.equal(gcRuns([a, b]), cycles.length, 'the logs show one GC run per cycle');
  for (const instance of [a, b]) {
    assert.ok(
      requestsServed(instance, 'PUT', '/v1/agent/repo/objects/:name*') > 0,
      `${instance.name} took uploads`,
    );
    assert.ok(requestsServed(instance, 'POST', '/v1/agent/points') > 0, `${instance.name} committed points`);
  }

  // The lease in the catalog names the instance that ran every cycle.
  const catalog = await PostgresCatalog.open(catalogUrl);
  t.after(() => catalog.close());
  const gcLease = (await catalog.listLeases()).find((l) => l.name === 'task:gc');
  const runner = cycles[0]!.ran[0] === 'a' ? a : b;
  const other = runner === a ? b : a;
  assert.equal(gcLease?.holder, runner.server.background.holder);
  assert.ok(
    cycles.every((c) => c.ran[0] === runner.name),
    'the holder keeps the lease while it lives',
  );

  // The holder stops (giving its leases back): the other instance takes over at once.
  await runner.server.close();
  const takeover = await other.server.background.runNow('gc');
  assert.deepEqual(takeover, { ran: true, holder: other.server.background.holder });
  assert.equal(gcRuns([a, b]), cycles.length + 1);

  // Every recovery point restores through the instance that is left.
  const points = (await ok(['vault', 'points', 'prod'], adminEnv(other, token))).points as unknown[];
  assert.equal(points.length, 6, 'two points for each of three servers');
  for (const [i, agent] of agents.entries()) {
    await switchInstance(agent, other);
    const snapshots = (await ok(['snapshots'], agent.env)) as { id: string }[];
    assert.deepEqual(snapshots.map((s) => s.id).sort(), [first[i].id, second[i].id].sort());
    const again = join(dir, `again-${agent.name}`);
    await ok(['restore', first[i].id, '--target', again], agent.env);
    const expected = join(dir, `first-${agent.name}`, agent.src);
    assert.deepEqual(await compareTrees(expected, join(again, agent.src)), [], `${agent.name} point 1`);
    const latest = join(dir, `latest-${agent.name}`);
    await ok(['restore', second[i].id, '--target', latest], agent.env);
    assert.deepEqual(await compareTrees(agent.src, join(latest, agent.src)), [], `${agent.name} point 2`);
  }
});

// The load bench: a real vault server as its own process, N agents as their own
// processes, each registered with its own credentials file and client certificate,
// backing up concurrently until the deadline, then restoring every point they committed.
// Used by bench/load.ts (minutes, many agents) and test/load.test.ts (a small budget).
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerClient } from '../src/server/client.ts';
import type { AgentReport, FromAgent, ToAgent } from './load-agent.ts';
import { latencyTable, mergeSamples, type Percentiles, type Samples } from './load-stats.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const AGENT = resolve(import.meta.dirname, 'load-agent.ts');

export interface LoadOptions {
  agents: number;
  /** How long agents keep starting new backups (each does at least one). */
  seconds: number;
  /** At most this many backups per agent (default: no limit but the deadline). */
  maxBackups?: number;
  log?: (line: string) => void;
}

export interface LoadResult {
  agents: number;
  seconds: number;
  /** Wall time of the backup phase: start signal → the last agent's last backup ended (requests and bytes count this phase). */
  backupPhaseSeconds: number;
  jobs: number;
  failedJobs: number;
  failures: { agent: string; phase: string; message: string }[];
  pointsRestored: number;
  /** Points the vault lists (every committed backup must be one of them). */
  pointsListed: number;
  bytesProcessed: number;
  bytesStored: number;
  requests: number;
  processedMBps: number;
  storedMBps: number;
  requestsPerSecond: number;
  /** Client-side, per route group, ms: request start → answer headers. */
  latency: Record<string, Percentiles>;
  /** Answers the server logged with a 5xx status. */
  server5xx: number;
}

/** The server as its own process; its log is only counted (answers with a 5xx status). */
async function startServer(dir: string): Promise<{ child: ChildProcess; url: string; errors: () => number }> {
  const data = join(dir, 'server');
  const args = [MAIN, 'server', '--data', data, '--listen', '127.0.0.1:0'];
  args.push('--region', `local=file://${join(dir, 'region')}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errors = 0;
  let partial = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (/"status":5\d\d/.test(line)) errors++;
  });
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    const url = /listening on (https:\/\/\S+)/.exec(out)?.[1];
    if (url) return { child, url, errors: () => errors };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`the vault server did not start: ${out}`);
}

interface AgentProcess {
  name: string;
  child: ChildProcess;
  next: () => Promise<FromAgent>;
}

function startAgent(dir: string, name: string): AgentProcess {
  const agentDir = join(dir, 'agents', name);
  const child = fork(AGENT, [], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, OFFSITE_AGENT_DIR: agentDir },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const queue: FromAgent[] = [];
  const waiting: ((m: FromAgent) => void)[] = [];
  const deliver = (m: FromAgent) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  };
  child.on('message', (m) => deliver(m as FromAgent));
  child.on('exit', (code, signal) => deliver({ type: 'error', message: `exited (${code ?? signal})` }));
  const next = () => {
    const m = queue.shift();
    return m ? Promise.resolve(m) : new Promise<FromAgent>((done) => waiting.push(done));
  };
  return { name, child, next };
}

/** Credentials files are single-use and only the newest works: one agent at a time. */
async function registerAll(admin: ServerClient, dir: string, agents: AgentProcess[]): Promise<void> {
  for (const agent of agents) {
    const file = join(dir, `${agent.name}.credentials.json`);
    const creds = await admin.call('POST', '/v1/vaults/load/credentials');
    await writeFile(file, JSON.stringify(creds), {
      mode: 0o600,
    });
    agent.child.send({ type: 'register', credentialsFile: file, name: agent.name } satisfies ToAgent);
    const answer = await agent.next();
    if (answer.type !== 'registered')
      throw new Error(`${agent.name} could not register: ${JSON.stringify(answer)}`);
  }
}

function summarise(
  o: LoadOptions,
  reports: AgentReport[],
  phaseMs: number,
  listed: number,
  serverErrors: number,
): LoadResult {
  const samples: Samples = {};
  for (const r of reports) mergeSamples(samples, r.samples);
  const sum = (f: (r: AgentReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const failures = reports.flatMap((r) => r.failed.map((f) => ({ agent: r.name, ...f })));
  const secs = phaseMs / 1000;
  const bytesProcessed = sum((r) => r.bytesProcessed);
  const bytesStored = sum((r) => r.bytesStored);
  const requests = sum((r) => r.requests);
  return {
    agents: o.agents,
    seconds: o.seconds,
    backupPhaseSeconds: Math.round(secs * 10) / 10,
    jobs: sum((r) => r.backups) + failures.filter((f) => f.phase === 'backup').length,
    failedJobs: failures.length,
    failures,
    pointsRestored: sum((r) => r.restored),
    pointsListed: listed,
    bytesProcessed,
    bytesStored,
    requests,
    processedMBps: Math.round((bytesProcessed / 1e6 / secs) * 100) / 100,
    storedMBps: Math.round((bytesStored / 1e6 / secs) * 100) / 100,
    requestsPerSecond: Math.round((requests / secs) * 10) / 10,
    latency: latencyTable(samples),
    server5xx: serverErrors,
  };
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'offsite-load-'));
  const server = await startServer(dir);
  const agents: AgentProcess[] = [];
  try {
    const caPem = await readFile(join(dir, 'server', 'ca.pem'), 'utf8');
    const token = (await readFile(join(dir, 'server', 'admin-token'), 'utf8')).trim();
    // A fresh connection per call: with Node's default keep-alive agent the first call
    // after forking the agents was reset (ECONNRESET) in 3 of 4 runs, never without it.
    const admin = new ServerClient({
      server: server.url,
      caPem,
      token,
      agent: new Agent({ keepAlive: false }),
    });
    await admin.call('POST', '/v1/vaults', { name: 'load', region: 'local' });
    await mkdir(join(dir, 'agents'), { recursive: true });
    for (let i = 0; i < o.agents; i++) agents.push(startAgent(dir, `agent-${String(i).padStart(3, '0')}`));
    await registerAll(admin, dir, agents);
    const budget = o.maxBackups
      ? `${o.maxBackups} backups each (at most ${o.seconds} s)`
      : `backing up for ${o.seconds} s`;
    log(`${o.agents} agents registered, each with its own client certificate; ${budget}`);
    const t0 = Date.now();
    const deadline = Date.now() + o.seconds * 1000;
    const maxBackups = o.maxBackups ?? Number.MAX_SAFE_INTEGER;
    for (const a of agents) a.child.send({ type: 'start', deadline, maxBackups } satisfies ToAgent);
    const reports: AgentReport[] = [];
    for (const a of agents) {
      const m = await a.next();
      if (m.type !== 'done') throw new Error(`${a.name} failed: ${JSON.stringify(m)}`);
      reports.push(m.report);
    }
    const phaseMs = Math.max(...reports.map((r) => r.backupsEndedAt)) - t0;
    const listed = (await admin.call('GET', '/v1/vaults/load/points')) as { points: unknown[] };
    return summarise(o, reports, phaseMs, listed.points.length, server.errors());
  } finally {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
    server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

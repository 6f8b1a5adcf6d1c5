import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isOffsiteError } from '../../errors/index.ts';
import { readIfExists } from '../../util/index.ts';
import { SiteClient } from './client.ts';
import { type Assignment, type Command, executeCommand } from './commands.ts';
import { heartbeatHealth } from './health.ts';
import { renewalDue, renewCertificate } from './renew.ts';
import { type SiteAgentState, siteAgentFiles } from './state.ts';

// The site agent's loop: a heartbeat every heartbeatMs (inventory of the workloads the
// server assigns to this site, and replication health), and a poll for commands every
// pollMs, each command run and its result reported. A failure to reach the server is
// logged and retried at the next tick; stopping (the signal) lets the running command
// finish and report first.

export const AGENT_VERSION = '0.1.0';

export interface RunOptions {
  state: SiteAgentState;
  signal: AbortSignal;
  heartbeatMs: number;
  pollMs: number;
  log: (entry: Record<string, unknown>) => void;
  /** Replication health per workload; default: the data plane's replication-health.json. */
  replicationHealth?: () => Promise<unknown[]>;
}

/** What the replication data plane wrote for the control plane to send; none yet is []. */
export async function readReplicationHealth(dir: string): Promise<unknown[]> {
  const text = await readIfExists(siteAgentFiles(dir).replicationHealth);
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return []; // caught mid-write by hand; the data plane writes it atomically
  }
  return Array.isArray(parsed) ? parsed.map(heartbeatHealth).filter((h) => h !== undefined) : [];
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Metadata only: which workloads are here, in which role and version, and whether their data is. */
async function inventory(state: SiteAgentState, workloads: readonly Assignment[]) {
  const items = [];
  for (const w of workloads) {
    const paths = w.spec.dataPaths ?? [];
    const present = await Promise.all(paths.map(exists));
    items.push({
      name: w.name,
      version: w.version,
      role: w.role,
      fencingEpoch: w.fencingEpoch,
      dataPaths: paths.length,
      dataPathsPresent: present.filter(Boolean).length,
    });
  }
  return {
    site: state.info.site.name,
    host: hostname(),
    agentVersion: AGENT_VERSION,
    pid: process.pid,
    workloads: items,
  };
}

function clientOf(state: SiteAgentState): SiteClient {
  const { caPem, certPem, keyPem } = state;
  return new SiteClient({ server: state.info.server, caPem, certPem, keyPem });
}

class SiteAgentLoop {
  readonly #options: RunOptions;
  #state: SiteAgentState;
  #client: SiteClient;
  #workloads: Assignment[] = [];

  constructor(options: RunOptions) {
    this.#options = options;
    this.#state = options.state;
    this.#client = clientOf(options.state);
  }

  async renewIfDue(): Promise<void> {
    if (!renewalDue(this.#state.certPem, Date.now())) return;
    this.#state = await renewCertificate(this.#state, this.#client);
    this.#client = clientOf(this.#state);
    this.#log('certificate renewed');
  }

  async heartbeat(): Promise<void> {
    const state = this.#state;
    const replication = await (this.#options.replicationHealth ?? (() => readReplicationHealth(state.dir)))();
    const answer = (await this.#client.call('POST', '/v1/site-agent/heartbeat', {
      inventory: await inventory(state, this.#workloads),
      replication,
    })) as { workloads: Assignment[] };
    const before = this.#workloads.map((w) => `${w.name}@${w.version}`).join(',');
    this.#workloads = answer.workloads;
    const after = this.#workloads.map((w) => `${w.name}@${w.version}`).join(',');
    if (before !== after) this.#log('workloads assigned', { workloads: after });
  }

  async pollOnce(): Promise<void> {
    const { commands } = (await this.#client.call('GET', '/v1/site-agent/commands')) as {
      commands: Command[];
    };
    for (const command of commands) {
      const outcome = await executeCommand(command, this.#workloads);
      await this.#client.call(
        'POST',
        `/v1/site-agent/commands/${encodeURIComponent(command.id)}/result`,
        outcome,
      );
      this.#log('command', { id: command.id, kind: command.kind, state: outcome.state });
    }
  }

  async run(): Promise<void> {
    const { signal, heartbeatMs, pollMs } = this.#options;
    let nextHeartbeat = 0;
    while (!signal.aborted) {
      if (Date.now() >= nextHeartbeat) {
        nextHeartbeat = Date.now() + heartbeatMs;
        await this.#attempt('renewal', () => this.renewIfDue());
        await this.#attempt('heartbeat', () => this.heartbeat());
      }
      await this.#attempt('poll', () => this.pollOnce());
      await sleep(Math.min(pollMs, Math.max(0, nextHeartbeat - Date.now())), undefined, { signal }).catch(
        () => {},
      );
    }
  }

  async #attempt(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const error = isOffsiteError(err) ? `${err.code}: ${err.message}` : String(err);
      this.#log(`${what} failed`, { level: 'warn', error });
    }
  }

  #log(msg: string, fields: Record<string, unknown> = {}): void {
    this.#options.log({
      time: new Date().toISOString(),
      msg,
      site: this.#options.state.info.site.name,
      ...fields,
    });
  }
}

/** Runs until the signal is aborted. */
export async function runSiteAgent(options: RunOptions): Promise<void> {
  await new SiteAgentLoop(options).run();
}

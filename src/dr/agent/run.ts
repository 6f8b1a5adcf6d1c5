import { access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isOffsiteError } from '../../errors/index.ts';
import { readIfExists } from '../../util/index.ts';
import { SiteClient } from './client.ts';
import { type Assignment, type Command, type CommandResult, executeCommand } from './commands.ts';
import type { DrContext } from './context.ts';
import { FencingStore } from './fencing.ts';
import { fenceFromHeartbeat } from './fencing-watch.ts';
import { heartbeatHealth } from './health.ts';
import { drLayout } from './layout.ts';
import { type PeerTarget, PeerWatch, peerTargets } from './peer-watch.ts';
import { ProcessTable } from './processes.ts';
import { renewalDue, renewCertificate } from './renew.ts';
import { ReplicationManager } from './replication.ts';
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
  /** Where the replication server listens (host and port, 0: any free port); absent: no replication. */
  replicationListen?: { host: string; port: number };
  /** The address the peer dials (default: the listening one). */
  replicationAdvertise?: string;
  /** Replica retention runs this often (default 10 min). */
  retentionEveryMs?: number;
  /** Peer sites are probed this often for automatic failover's witness report (default: heartbeatMs). */
  peerProbeMs?: number;
  /** The clock peer silences are measured by (default Date.now; tests move it). */
  peerClock?: () => number;
}

const HEALTH_EVERY_MS = 5000;

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
async function inventory(
  state: SiteAgentState,
  workloads: readonly Assignment[],
  replicationAddress: string | null,
  peers: PeerWatch,
) {
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
    replicationAddress,
    workloads: items,
    peers: peers.report(),
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
  readonly #dr: DrContext;
  readonly #replication: ReplicationManager | undefined;
  #healthWrittenAt = 0;
  #heartbeating: Promise<void> = Promise.resolve();
  #retentionAt = 0;
  readonly #peers: PeerWatch;
  /** Results the server has not taken yet (it was unreachable), sent before anything new. */
  readonly #unreported = new Map<string, { kind: string; outcome: CommandResult }>();

  constructor(options: RunOptions) {
    this.#options = options;
    this.#state = options.state;
    this.#peers = new PeerWatch({
      tls: () => this.#state,
      everyMs: options.peerProbeMs ?? options.heartbeatMs,
      ...(options.peerClock ? { now: options.peerClock } : {}),
    });
    this.#client = clientOf(options.state);
    const layout = drLayout(options.state.dir);
    const site = options.state.info.site.name;
    if (options.replicationListen) {
      this.#replication = new ReplicationManager({
        site,
        tls: options.state,
        layout,
        healthFile: siteAgentFiles(options.state.dir).replicationHealth,
        ...options.replicationListen,
        log: (msg, fields) => this.#log(msg, fields),
      });
    }
    this.#dr = {
      site,
      layout,
      fencing: new FencingStore(layout.fencing),
      processes: new ProcessTable(layout.processes),
      ...(this.#replication ? { replication: this.#replication } : {}),
      baseEnv: process.env,
      refresh: async () => {
        await this.heartbeat();
        return this.#workloads;
      },
    };
  }

  #address(): string | null {
    return this.#options.replicationAdvertise ?? (this.#replication?.address || null);
  }

  /** Replication follows the assignments; health and retention on their own clocks. */
  async #followAssignments(): Promise<void> {
    const replication = this.#replication;
    if (!replication) return;
    await replication.apply(this.#workloads);
    const now = Date.now();
    if (now >= this.#retentionAt) {
      this.#retentionAt = now + (this.#options.retentionEveryMs ?? 600_000);
      await replication.retention();
    }
    if (now - this.#healthWrittenAt >= HEALTH_EVERY_MS) {
      this.#healthWrittenAt = now;
      await replication.writeHealth();
    }
  }

  async renewIfDue(): Promise<void> {
    if (!renewalDue(this.#state.certPem, Date.now())) return;
    this.#state = await renewCertificate(this.#state, this.#client);
    this.#client = clientOf(this.#state);
    this.#log('certificate renewed');
  }

  /** One heartbeat at a time (the loop's and a command's refresh). */
  heartbeat(): Promise<void> {
    const run = this.#heartbeating.then(() => this.#heartbeat());
    this.#heartbeating = run.catch(() => {});
    return run;
  }

  async #heartbeat(): Promise<void> {
    const state = this.#state;
    const replication = await (this.#options.replicationHealth ?? (() => readReplicationHealth(state.dir)))();
    const answer = (await this.#client.call('POST', '/v1/site-agent/heartbeat', {
      inventory: await inventory(state, this.#workloads, this.#address(), this.#peers),
      replication,
    })) as { workloads: Assignment[]; watch?: PeerTarget[] };
    const before = this.#workloads.map((w) => `${w.name}@${w.version}`).join(',');
    this.#workloads = answer.workloads;
    const after = this.#workloads.map((w) => `${w.name}@${w.version}`).join(',');
    if (before !== after) this.#log('workloads assigned', { workloads: after });
    this.#peers.setTargets(peerTargets(state.info.site.name, this.#workloads, answer.watch ?? []));
    void this.#peers.probe(); // reported with the next heartbeat; never holds this one up
    for (const w of this.#workloads) {
      await fenceFromHeartbeat(this.#dr, w, (msg, fields) => this.#log(msg, fields));
    }
    await this.#followAssignments();
  }

  async pollOnce(): Promise<void> {
    await this.#report();
    const { commands } = (await this.#client.call('GET', '/v1/site-agent/commands')) as {
      commands: Command[];
    };
    for (const command of commands) {
      const outcome = await executeCommand(command, this.#workloads, this.#dr);
      this.#unreported.set(command.id, { kind: command.kind, outcome });
      await this.#report();
    }
  }

  /**
   * A result the server could not take (it was down while the command ran) is kept and
   * sent again: dropped, it held the failover run until the command was sent again five
   * minutes later, or failed the run's step on its time-out. A result the server refuses
   * for good (the command is unknown or settled) is dropped with a warning.
   */
  async #report(): Promise<void> {
    for (const [id, { kind, outcome }] of this.#unreported) {
      try {
        await this.#client.call('POST', `/v1/site-agent/commands/${encodeURIComponent(id)}/result`, outcome);
        this.#log('command', { id, kind, state: outcome.state });
      } catch (err) {
        const refused = isOffsiteError(err) && ['not-found', 'conflict', 'bad-input'].includes(err.kind);
        if (!refused) throw err;
        this.#log('command result refused', { level: 'warn', id, kind, error: err.message });
      }
      this.#unreported.delete(id);
    }
  }

  async run(): Promise<void> {
    if (this.#replication) {
      const address = await this.#replication.listen();
      this.#log('replication listening', { address });
    }
    try {
      await this.#loop();
    } finally {
      await this.#replication?.close();
    }
  }

  /**
   * Heartbeats and commands on their own loops: a command that takes minutes (a start
   * waiting for health, a materialise) never silences the site.
   */
  async #loop(): Promise<void> {
    const { signal, heartbeatMs, pollMs } = this.#options;
    const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => {});
    let firstDone: () => void = () => {};
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    const heartbeats = (async () => {
      while (!signal.aborted) {
        await this.#attempt('renewal', () => this.renewIfDue());
        await this.#attempt('heartbeat', () => this.heartbeat());
        firstDone(); // commands wait for the first answer: it says which workloads are here
        await pause(heartbeatMs);
      }
      firstDone();
    })();
    const polls = (async () => {
      await first;
      while (!signal.aborted) {
        await this.#attempt('poll', () => this.pollOnce());
        await pause(pollMs);
      }
    })();
    await Promise.all([heartbeats, polls]);
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

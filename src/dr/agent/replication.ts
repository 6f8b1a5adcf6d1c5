import { hostname } from 'node:os';
import { join } from 'node:path';
import { isOffsiteError, NotFoundError } from '../../errors/index.ts';
import type { Repository } from '../../repo/index.ts';
import { writeAtomic } from '../../util/index.ts';
import {
  applyReplicaRetention,
  type CycleResult,
  openReplica,
  parseFrequency,
  ReplicaServer,
  type ReplicationHealth,
  ReplicationScheduler,
  Replicator,
  type ReplicaWorkload,
  replicaHealth,
  type SiteTls,
  workloadDir,
} from '../replication/index.ts';
import { acceptKey, keyPathIn, loadOrCreateKey, readKey } from '../replication/keys.ts';
import type { Assignment } from './commands.ts';
import type { DrLayout } from './layout.ts';

// Replication as the assignments say (contract: /work/helpers/dr-commands.md): this site
// sends a workload when it is both its primary and its active site (a failover moves the
// active site, a reprotect swaps primary and replica: until then nothing replicates, so a
// fenced old primary never sends stale data); it receives a workload when it is its
// replica, from the primary's site agent only, while the primary is active. The replica
// applies retention on its own schedule. Health of both sides goes to
// replication-health.json for the heartbeat.

/** The subject common name of a site's agent (src/vault/dr/names.ts siteAgentCommonName). */
export function siteAgentName(site: string): string {
  return `site:${site}`;
}

interface Sender {
  signature: string;
  replicator: Replicator;
  scheduler: ReplicationScheduler;
}

export interface ReplicationManagerOptions {
  site: string;
  tls: SiteTls;
  layout: DrLayout;
  healthFile: string;
  host: string;
  port: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

type Spec = {
  dataPaths?: string[];
  hooks?: { freeze: string; thaw: string } | null;
  replication?: { frequency?: string; extraHourlyPoints?: number; appConsistentEveryHours?: number | null };
};

function specOf(w: Assignment): Spec {
  return w.spec as Spec;
}

export class ReplicationManager {
  readonly #options: ReplicationManagerOptions;
  readonly #server: ReplicaServer;
  readonly #senders = new Map<string, Sender>();
  readonly #replicas = new Map<string, Repository>();
  #received: Assignment[] = [];
  #address = '';
  #healthWrite: Promise<void> = Promise.resolve();

  constructor(options: ReplicationManagerOptions) {
    this.#options = options;
    this.#server = new ReplicaServer({
      root: options.layout.replicaRoot,
      tls: options.tls,
      workloads: [],
      host: options.host,
      port: options.port,
      log: (event) => options.log('replica request failed', event),
    });
  }

  async listen(): Promise<string> {
    const port = await this.#server.listen();
    // A wildcard is no address to dial: the peer gets this machine's name instead.
    const wildcard = this.#options.host === '0.0.0.0' || this.#options.host === '::';
    const named = wildcard ? hostname() : this.#options.host;
    const host = named.includes(':') ? `[${named}]` : named;
    this.#address = `${host}:${port}`;
    return this.#address;
  }

  get address(): string {
    return this.#address;
  }

  /** Follows the assignments of the last heartbeat answer. */
  async apply(workloads: readonly Assignment[]): Promise<void> {
    const me = this.#options.site;
    this.#received = workloads.filter(
      (w) => w.replicaSite === me && w.activeSite === w.primarySite && w.activeSite !== me,
    );
    const accepted: ReplicaWorkload[] = this.#received.map((w) => ({
      id: w.name,
      primary: siteAgentName(w.primarySite),
    }));
    this.#server.setWorkloads(accepted);
    const sending = workloads.filter((w) => w.primarySite === me && w.activeSite === me && w.peerAddress);
    for (const [name, sender] of this.#senders) {
      const w = sending.find((x) => x.name === name);
      if (!w || signatureOf(w) !== sender.signature)
        this.#stopSender(name, w ? 'changed' : 'no longer sent from here');
    }
    for (const w of sending) if (!this.#senders.has(w.name)) await this.#startSender(w);
  }

  async #startSender(w: Assignment): Promise<void> {
    const spec = specOf(w);
    const stateDir = this.#options.layout.sender(w.name);
    const replicator = new Replicator({
      source: {
        workload: w.name,
        paths: spec.dataPaths ?? [],
        ...(spec.hooks ? { freeze: spec.hooks.freeze, thaw: spec.hooks.thaw } : {}),
      },
      replica: { url: `https://${w.peerAddress}`, name: siteAgentName(w.replicaSite) },
      tls: this.#options.tls,
      key: await this.#keyFor(w.name),
      stateDir,
      retry: { attempts: 3 },
    });
    const scheduler = new ReplicationScheduler({
      replicator,
      frequency: parseFrequency(spec.replication?.frequency ?? '5m'),
      appConsistentEveryHours: spec.hooks ? (spec.replication?.appConsistentEveryHours ?? 0) : 0,
      onCycle: (outcome) => {
        if (outcome.ok) this.#options.log('replicated', { workload: w.name, point: outcome.result.point.id });
        else
          this.#options.log('replication failed', {
            level: 'warn',
            workload: w.name,
            error: String(outcome.error),
          });
        void this.writeHealth();
      },
    });
    this.#senders.set(w.name, { signature: signatureOf(w), replicator, scheduler });
    scheduler.start();
    this.#options.log('replication started', { workload: w.name, to: w.replicaSite, at: w.peerAddress });
  }

  #stopSender(name: string, why: string): void {
    const sender = this.#senders.get(name);
    if (!sender) return;
    sender.scheduler.stop();
    sender.replicator.close();
    this.#senders.delete(name);
    this.#options.log('replication stopped', { workload: name, why });
  }

  /**
   * The key this site sends a workload with: its own, or — the first time it sends a
   * workload it used to receive (after a failover and reprotect) — the key of the replica
   * it holds, so both directions use the one key; a new one only for a new workload.
   */
  async #keyFor(workload: string): Promise<string> {
    const path = join(this.#options.layout.sender(workload), 'key');
    const own = await readKey(path);
    if (own !== undefined) return own;
    const inherited = await readKey(keyPathIn(workloadDir(this.#options.layout.replicaRoot, workload)));
    if (inherited !== undefined) {
      await acceptKey(path, inherited);
      return inherited;
    }
    return loadOrCreateKey(path);
  }

  /** One cycle now (replicate-now), joined with a running one. */
  async replicateNow(workload: string): Promise<CycleResult> {
    const sender = this.#senders.get(workload);
    if (!sender) {
      throw new NotFoundError('NOT_REPLICATING', `this site does not replicate ${workload} now`, {
        hint: 'replicate-now runs at the primary site while it is the active site, once the peer reported its address',
      });
    }
    const result = await sender.replicator.replicate();
    await this.writeHealth();
    return result;
  }

  /** Expires points of every workload received here by their policy. */
  async retention(): Promise<void> {
    for (const w of this.#received) {
      const hourly = specOf(w).replication?.extraHourlyPoints ?? 0;
      try {
        const run = await applyReplicaRetention(this.#options.layout.replicaRoot, w.name, { hourly });
        if (run.removed.length > 0)
          this.#options.log('retention', { workload: w.name, removed: run.removed.length });
      } catch (err) {
        if (!(isOffsiteError(err) && err.code === 'REPLICA_NOT_PAIRED'))
          this.#options.log('retention failed', { level: 'warn', workload: w.name, error: String(err) });
      }
    }
  }

  async #replicaEntry(w: Assignment, now: number): Promise<Record<string, unknown> | undefined> {
    try {
      let repo = this.#replicas.get(w.name);
      if (!repo) {
        repo = await openReplica(this.#options.layout.replicaRoot, w.name);
        this.#replicas.set(w.name, repo);
      }
      const health = await replicaHealth(w.name, repo, now);
      return {
        workload: w.name,
        lastPointAt: health.latest?.time ?? null,
        lastPointId: health.latest?.id ?? null,
        consistent: health.latest?.consistency === 'app-consistent',
        lagMs: health.lagSeconds === null ? null : health.lagSeconds * 1000,
        error: null,
      };
    } catch (err) {
      this.#replicas.delete(w.name);
      if (isOffsiteError(err) && err.code === 'REPLICA_NOT_PAIRED') return undefined;
      return {
        workload: w.name,
        lastPointAt: null,
        lastPointId: null,
        consistent: false,
        lagMs: null,
        error: String(err).slice(0, 2000),
      };
    }
  }

  /** Both sides' health, atomically, for the next heartbeat (one write at a time). */
  writeHealth(): Promise<void> {
    const run = this.#healthWrite.then(() => this.#writeHealth());
    this.#healthWrite = run.catch(() => {});
    return run;
  }

  async #writeHealth(): Promise<void> {
    const now = Date.now();
    const entries: (ReplicationHealth | Record<string, unknown>)[] = [];
    for (const sender of this.#senders.values()) entries.push(await sender.scheduler.health());
    for (const w of this.#received) {
      const entry = await this.#replicaEntry(w, now);
      if (entry) entries.push(entry);
    }
    await writeAtomic(this.#options.healthFile, `${JSON.stringify(entries)}\n`, 0o600);
  }

  async close(): Promise<void> {
    for (const name of [...this.#senders.keys()]) this.#stopSender(name, 'site agent stopping');
    await this.#server.close();
  }
}

/** What a sender depends on: a change of any makes a new one. */
function signatureOf(w: Assignment): string {
  return JSON.stringify([w.version, w.peerAddress, w.replicaSite, w.fencingEpoch]);
}

import type { Agent } from 'node:https';
import { join } from 'node:path';
import { isOffsiteError, type OffsiteError } from '../../errors/index.ts';
import type { KdfParams } from '../../repo/crypto/kdf.ts';
import { backup, DiskCache, findParent, Repository } from '../../repo/index.ts';
import { errorFromAnswer } from '../../storage/http/errors.ts';
import { exchange } from '../../storage/http/request.ts';
import { type BlobStore, HttpBlobStore, type RetryOptions, RetryStore } from '../../storage/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import { CountingStore } from './counting-store.ts';
import { DEFAULT_FREEZE_TIMEOUT_MS, withFreeze } from './freeze.ts';
import { APP_CONSISTENT, type Consistency, CRASH_CONSISTENT, DR_TAG, workloadBasePath } from './protocol.ts';
import {
  type CycleError,
  type PointSummary,
  readState,
  type SenderState,
  writeState,
} from './sender-state.ts';
import { replicaAgent, type SiteTls } from './tls.ts';

// The primary side: each cycle backs the workload's data paths up with the repository
// engine straight into the replica site's store (dedup, compression, encryption under
// the workload key), so each cycle is one snapshot = one recovery point. Resuming after a
// cut is the engine's own: packs uploaded before the cut are found and indexed by the next
// backup (design.md §11), never sent again.

export interface ReplicationSource {
  workload: string;
  /** Absolute data paths of the workload. */
  paths: string[];
  excludes?: string[];
  freeze?: string;
  thaw?: string;
  hookTimeoutMs?: number;
}

export interface ReplicaTarget {
  /** https://host:port of the replica site agent's replication server. */
  url: string;
  /** Common name of the replica site agent's certificate. */
  name: string;
}

export interface ReplicatorOptions {
  source: ReplicationSource;
  replica: ReplicaTarget;
  tls: SiteTls;
  /** The workload's repository key (keys.ts); never leaves the two site agents. */
  key: string;
  /** The primary's folder for this workload: state.json and the metadata cache. */
  stateDir: string;
  clock?: Clock;
  retry?: RetryOptions;
  timeoutMs?: number;
  /** For tests: a cheap KDF and small packs (the format is the same). */
  kdf?: KdfParams;
  repoConfig?: { packSize?: number; chunker?: { min: number; avg: number; max: number } };
  /** Hook events in order ("freeze:start", "thaw:ok", …), for logs and tests. */
  onHookEvent?: (event: string) => void;
}

export interface CycleResult {
  point: PointSummary;
  /** Objects and bytes this cycle put to the replica (packs, indexes, the snapshot, …). */
  objectsSent: number;
  packsSent: number;
  filesChanged: number;
  filesNew: number;
  /** Freeze or thaw failures; the point was still made. */
  hookErrors: CycleError[];
  /** Files or folders that could not be read: the point lacks them. */
  skipped: { path: string; message: string }[];
}

export class Replicator {
  readonly workload: string;
  readonly #options: ReplicatorOptions;
  readonly #clock: Clock;
  readonly #agent: Agent;
  readonly #counting: CountingStore;
  readonly #store: BlobStore;
  #repo: Repository | undefined;
  #paired = false;
  #state: SenderState | undefined;
  #running: Promise<CycleResult> | undefined;

  constructor(options: ReplicatorOptions) {
    this.#options = options;
    this.workload = options.source.workload;
    this.#clock = options.clock ?? systemClock;
    this.#agent = replicaAgent(options.tls, options.replica.name);
    const http = new HttpBlobStore({
      url: `${options.replica.url.replace(/\/+$/, '')}${workloadBasePath(this.workload)}`,
      caPem: options.tls.caPem,
      certPem: options.tls.certPem,
      keyPem: options.tls.keyPem,
      agent: this.#agent,
      directUpload: false,
      timeoutMs: options.timeoutMs ?? 60_000,
    });
    this.#counting = new CountingStore(http);
    this.#store = new RetryStore(this.#counting, options.retry);
  }

  /** What the last cycles left: for health reports (health.ts). */
  async state(): Promise<SenderState> {
    this.#state ??= await readState(this.#options.stateDir);
    return this.#state;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** One cycle; cycles of one workload never overlap (a second call joins the running one). */
  replicate(consistency: Consistency = CRASH_CONSISTENT): Promise<CycleResult> {
    this.#running ??= this.#cycle(consistency).finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    this.#agent.destroy();
  }

  async #cycle(wanted: Consistency): Promise<CycleResult> {
    const state = await this.state();
    state.lastAttemptAt = new Date(this.#clock.now()).toISOString();
    this.#counting.reset();
    try {
      const result = await this.#run(wanted);
      state.lastPoint = result.point;
      if (result.point.consistency === APP_CONSISTENT) state.lastAppConsistent = result.point;
      state.lastError = result.hookErrors[0] ?? skippedError(result, this.#clock);
      return result;
    } catch (err) {
      this.#repo = undefined; // reopened next cycle: the replica may have changed meanwhile
      const failure = refusedPeer(err) ?? err;
      state.lastError = describe(failure, this.#clock);
      throw failure;
    } finally {
      await writeState(this.#options.stateDir, state);
    }
  }

  async #run(wanted: Consistency): Promise<CycleResult> {
    const repo = await this.#open();
    const { source } = this.#options;
    const hooks = {
      freeze: wanted === APP_CONSISTENT ? source.freeze : undefined,
      thaw: wanted === APP_CONSISTENT ? source.thaw : undefined,
      timeoutMs: source.hookTimeoutMs ?? DEFAULT_FREEZE_TIMEOUT_MS,
    };
    const parent = await findParent(repo, this.workload, source.paths);
    const outcome = await withFreeze(
      this.workload,
      hooks,
      (frozen) => {
        const consistency = wanted === APP_CONSISTENT && frozen ? APP_CONSISTENT : CRASH_CONSISTENT;
        return backup(repo, {
          paths: source.paths,
          excludes: source.excludes ?? [],
          hostname: this.workload,
          tags: [DR_TAG, consistency],
          parent,
          now: () => new Date(this.#clock.now()),
        });
      },
      this.#options.onHookEvent,
    );
    const { id, snapshot, errors } = outcome.value;
    const consistency = snapshot.tags.includes(APP_CONSISTENT) ? APP_CONSISTENT : CRASH_CONSISTENT;
    return {
      point: { id, time: snapshot.time, consistency, bytesSent: this.#counting.bytesSent },
      objectsSent: this.#counting.objectsSent,
      packsSent: this.#counting.packsSent,
      filesChanged: snapshot.stats.filesChanged,
      filesNew: snapshot.stats.filesNew,
      hookErrors: outcome.hookErrors.map((e) => describe(e, this.#clock)),
      skipped: errors,
    };
  }

  /** The replica repository: paired (key offered) and created on first use, then kept open. */
  async #open(): Promise<Repository> {
    // One HEAD per cycle: a replica rebuilt from scratch (its folder lost) is paired and
    // filled again instead of receiving packs for a repository it no longer has.
    if (!this.#paired) await this.#offerKey();
    this.#paired = true;
    const exists = (await this.#store.head('config')) !== null;
    if (this.#repo && exists) return this.#repo;
    if (!exists) await this.#offerKey(); // a rebuilt replica lost the key with the rest
    const { key, kdf, repoConfig } = this.#options;
    const repo = exists
      ? await Repository.open(this.#store, key)
      : await Repository.init(this.#store, key, {
          ...(kdf ? { kdf } : {}),
          ...(repoConfig ? { config: repoConfig } : {}),
        });
    repo.cache = new DiskCache(join(this.#options.stateDir, 'cache', repo.config.id));
    this.#repo = repo;
    return repo;
  }

  async #offerKey(): Promise<void> {
    const url = new URL(this.#options.replica.url);
    const body = Buffer.from(JSON.stringify({ version: 1, key: this.#options.key }));
    const answer = await exchange(
      {
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port || 443),
        basePath: '',
        location: url.origin,
        ca: this.#options.tls.caPem,
        cert: this.#options.tls.certPem,
        key: this.#options.tls.keyPem,
        agent: this.#agent,
        timeoutMs: this.#options.timeoutMs ?? 60_000,
      },
      'PUT',
      `${workloadBasePath(this.workload)}/key`,
      { headers: { 'content-type': 'application/json' }, body },
    );
    if (answer.status === 200 || answer.status === 201) return;
    throw errorFromAnswer(answer.status, answer.body, url.origin);
  }
}

/**
 * A replica whose certificate names another site agent fails the TLS handshake, which the
 * HTTP store reports as a transient connection failure (possibly after retries): the
 * refusal underneath is the real, permanent, reason.
 */
function refusedPeer(err: unknown): OffsiteError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (isOffsiteError(current) && current.code === 'REPLICA_NOT_TRUSTED') return current;
    current = current.cause;
  }
  return undefined;
}

/** A point that lacks unreadable files is made, but replication is not healthy. */
function skippedError(result: CycleResult, clock: Clock): CycleError | null {
  const [first] = result.skipped;
  if (!first) return null;
  return {
    code: 'FILES_SKIPPED',
    message: `${result.skipped.length} items could not be read and are missing from point ${result.point.id.slice(0, 12)}; first: ${first.path}: ${first.message}`,
    at: new Date(clock.now()).toISOString(),
  };
}

function describe(err: unknown, clock: Clock): CycleError {
  return {
    code: isOffsiteError(err) ? err.code : 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
    at: new Date(clock.now()).toISOString(),
  };
}

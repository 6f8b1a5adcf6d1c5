import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { Agent } from 'node:https';
import { type ClientOptions, ServerClient } from '../server/client.ts';
import {
  type BlobStore,
  type ByteRange,
  HttpBlobStore,
  type HttpStoreOptions,
  type ListedObject,
  type ObjectInfo,
  RetryStore,
  ThrottleStore,
} from '../storage/index.ts';
import { type Clock, writeAtomic } from '../util/index.ts';
import { renewalDue } from '../vault/registration.ts';
import { loadProxy, loadThrottle, throttleRate } from './network.ts';
import { ProxyAgent, proxyErrorOf } from './proxy-agent.ts';
import { type AgentState, agentFiles } from './state.ts';

// The agent's connection to its vault: the JSON API client and the repository store,
// both authenticated by the agent's client certificate, both through the proxy set in
// the agent folder (if any), the store held to the folder's throttle (if any). The
// certificate is renewed (same key, new certificate) when a third of its life is left.

/** One proxy agent per agent folder and proxy setting, so connections are reused across clients. */
const proxyAgents = new Map<string, { key: string; agent: ProxyAgent }>();

/** The agent folder's proxy as an https.Agent, or undefined for a direct connection. */
export function proxyAgentFor(dir: string): ProxyAgent | undefined {
  const proxy = loadProxy(dir);
  const known = proxyAgents.get(dir);
  const key = proxy ? createHash('sha256').update(JSON.stringify(proxy)).digest('hex') : '';
  if (known?.key === key) return known.agent;
  // A replaced agent is not destroyed: a store may still be using it. Its idle
  // connections end when the vault closes them.
  proxyAgents.delete(dir);
  if (!proxy) return undefined;
  const agent = new ProxyAgent(proxy);
  proxyAgents.set(dir, { key, agent });
  return agent;
}

/** A failure to open a tunnel surfaces as the proxy's own error, not as "cannot reach the vault". */
function unwrapped(err: unknown): unknown {
  return proxyErrorOf(err) ?? err;
}

class VaultClient extends ServerClient {
  override async call(method: string, path: string, body?: unknown): Promise<unknown> {
    try {
      return await super.call(method, path, body);
    } catch (err) {
      throw unwrapped(err);
    }
  }
}

/** A client of the vault API from this agent folder: through its proxy, if one is set. */
export function vaultClient(dir: string, options: Omit<ClientOptions, 'agent'>): ServerClient {
  const agent = proxyAgentFor(dir);
  return new VaultClient({ ...options, ...(agent ? { agent } : {}) });
}

export function agentClient(state: AgentState): ServerClient {
  return vaultClient(state.dir, {
    server: state.info.server,
    caPem: state.caPem,
    certPem: state.certPem,
    keyPem: state.keyPem,
  });
}

/** Proxy errors out from under the HTTP store's "vault unreachable", so RetryStore judges them. */
class ProxyErrorStore implements BlobStore {
  readonly location: string;
  readonly #inner: BlobStore;

  constructor(inner: BlobStore) {
    this.location = inner.location;
    this.#inner = inner;
  }

  put(name: string, data: Uint8Array): Promise<void> {
    return this.#inner.put(name, data).catch((err) => Promise.reject(unwrapped(err)));
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    return this.#inner.get(name, range).catch((err) => Promise.reject(unwrapped(err)));
  }

  head(name: string): Promise<ObjectInfo | null> {
    return this.#inner.head(name).catch((err) => Promise.reject(unwrapped(err)));
  }

  delete(name: string): Promise<void> {
    return this.#inner.delete(name).catch((err) => Promise.reject(unwrapped(err)));
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    try {
      yield* this.#inner.list(prefix);
    } catch (err) {
      throw unwrapped(err);
    }
  }
}

export interface VaultStoreOptions {
  /** The https.Agent to connect with; default: the folder's proxy, else a direct pool. */
  agent?: Agent;
  /** More options of the HTTP store (e.g. another server's repository to restore from). */
  http?: Partial<Omit<HttpStoreOptions, 'url' | 'caPem' | 'certPem' | 'keyPem' | 'agent'>>;
  /** Time and waiting of the throttle (tests move the clock across work hours). */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

/** The agent's repository in the vault: throttled as set, with transient failures retried. */
export function vaultRepoStore(state: AgentState, options: VaultStoreOptions = {}): BlobStore {
  const agent = options.agent ?? proxyAgentFor(state.dir);
  let store: BlobStore = new ProxyErrorStore(
    new HttpBlobStore({
      ...options.http,
      url: state.info.server,
      caPem: state.caPem,
      certPem: state.certPem,
      keyPem: state.keyPem,
      // Direct uploads to object storage (https) go through the same proxy tunnel.
      ...(agent ? { agent, storageAgent: agent } : {}),
    }),
  );
  const throttle = loadThrottle(state.dir);
  if (throttle) {
    const { clock, sleep } = options;
    store = new ThrottleStore(store, {
      rate: throttleRate(throttle),
      ...(clock ? { clock } : {}),
      ...(sleep ? { sleep } : {}),
    });
  }
  return new RetryStore(store);
}

/** Renews the client certificate when due; returns the state to use from now on. */
export async function renewIfDue(state: AgentState, now = Date.now()): Promise<AgentState> {
  if (state.info.via !== 'credentials') return state;
  const cert = new X509Certificate(state.certPem);
  if (!renewalDue(Date.parse(cert.validFrom), Date.parse(cert.validTo), now)) return state;
  const publicKey = createPublicKey(state.keyPem).export({ type: 'spki', format: 'pem' }).toString();
  const answer = (await agentClient(state).call('POST', '/v1/agent/renew', { publicKey })) as {
    certificate: string;
  };
  await writeAtomic(agentFiles(state.dir).cert, answer.certificate, 0o644);
  return { ...state, certPem: answer.certificate };
}

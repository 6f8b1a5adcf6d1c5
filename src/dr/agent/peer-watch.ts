import { connect, type PeerCertificate } from 'node:tls';
import type { SiteTls } from '../replication/tls.ts';

// The witness half of automatic failover: how long since this site last heard each peer
// site, reported in every heartbeat (`inventory.peers`) for the server to weigh against
// its own view (src/vault/dr/auto). Hearing a peer = a TLS handshake with its replication
// listener that proves it holds its site agent's certificate (mutual TLS, vault CA, the
// common name `site:<peer>`); no request is sent, so it costs a handshake per interval.
// Ages, not times, are reported: the server subtracts them from when the report came, so
// the two clocks need not agree. A peer never heard counts from when the watch began.

export interface PeerTarget {
  site: string;
  address: string;
}

export interface PeerReport {
  site: string;
  address: string;
  /** How long ago the peer was last heard (or the watch began). */
  silentMs: number;
}

export interface PeerWatchOptions {
  /** Read at each round: a renewed certificate is used from then on. */
  tls: () => SiteTls;
  /** A peer is probed at most this often (default 10 s). */
  everyMs?: number;
  /** A handshake not done by then failed (default 5 s). */
  timeoutMs?: number;
  now?: () => number;
}

interface Watched {
  address: string;
  lastHeardAt: number;
  probedAt: number;
}

function hostAndPort(address: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(`https://${address}`);
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 1) return undefined;
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return undefined;
  }
}

/** True when the site agent of `site` answers a TLS handshake at `address`. */
export function probePeer(tls: SiteTls, site: string, address: string, timeoutMs: number): Promise<boolean> {
  const target = hostAndPort(address);
  if (!target) return Promise.resolve(false);
  return new Promise((resolve) => {
    const expected = `site:${site}`;
    const socket = connect({
      ...target,
      ca: tls.caPem,
      cert: tls.certPem,
      key: tls.keyPem,
      minVersion: 'TLSv1.2',
      checkServerIdentity: (_host: string, cert: PeerCertificate) =>
        cert.subject?.CN === expected ? undefined : new Error(`the peer is not ${expected}`),
    });
    const done = (heard: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(heard);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(socket.authorized));
    socket.once('error', () => done(false));
  });
}

export class PeerWatch {
  readonly #options: PeerWatchOptions;
  readonly #peers = new Map<string, Watched>();
  #probing: Promise<void> | undefined;

  constructor(options: PeerWatchOptions) {
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** The peers to watch now; one no longer listed is forgotten, a moved one keeps its history. */
  setTargets(targets: readonly PeerTarget[]): void {
    const now = this.#now();
    const wanted = new Map(targets.map((t) => [t.site, t.address]));
    for (const site of this.#peers.keys()) if (!wanted.has(site)) this.#peers.delete(site);
    for (const [site, address] of wanted) {
      const known = this.#peers.get(site);
      if (known) known.address = address;
      else this.#peers.set(site, { address, lastHeardAt: now, probedAt: 0 });
    }
  }

  /** Probes the peers that are due, side by side; one round at a time (a slow peer never piles up). */
  probe(): Promise<void> {
    this.#probing ??= this.#round().finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async #round(): Promise<void> {
    const { everyMs = 10_000, timeoutMs = 5000 } = this.#options;
    const tls = this.#options.tls();
    const due = [...this.#peers].filter(([, p]) => this.#now() - p.probedAt >= everyMs);
    await Promise.all(
      due.map(async ([site, p]) => {
        p.probedAt = this.#now();
        if (await probePeer(tls, site, p.address, timeoutMs)) p.lastHeardAt = this.#now();
      }),
    );
  }

  report(): PeerReport[] {
    const now = this.#now();
    return [...this.#peers].map(([site, p]) => ({
      site,
      address: p.address,
      silentMs: Math.max(0, now - p.lastHeardAt),
    }));
  }
}

/** The peers a site watches: the other site of each assigned workload, and what the server adds (`watch`). */
export function peerTargets(
  me: string,
  workloads: readonly { primarySite: string; replicaSite: string; peerAddress?: string | null }[],
  extra: readonly PeerTarget[],
): PeerTarget[] {
  const targets = new Map<string, string>();
  for (const w of workloads) {
    const peer = w.primarySite === me ? w.replicaSite : w.primarySite;
    if (w.peerAddress) targets.set(peer, w.peerAddress);
  }
  for (const t of extra) {
    const usable = typeof t?.site === 'string' && typeof t.address === 'string' && t.site !== me;
    if (usable && !targets.has(t.site)) targets.set(t.site, t.address);
  }
  return [...targets].map(([site, address]) => ({ site, address }));
}

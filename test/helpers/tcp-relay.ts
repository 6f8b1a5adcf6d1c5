// A real TCP relay on loopback for network-fault tests: between an agent and the vault, or
// a sender and a replica. It relays TLS untouched (it never sees inside), counts the bytes
// going up, and when told cuts connections with a reset, as a flaky network or a proxy
// dropping a long upload would:
// - cutAfter(n): everything drops once n more bytes went up, and new connections are
//   refused until heal() (an outage);
// - cutOnceAfter(n): one connection dies after n more bytes, then all relays normally;
// - cutEachOver(n): every connection carrying more than n bytes up dies (a hostile proxy).
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

type Mode =
  | { kind: 'off' }
  | { kind: 'outage-at'; at: number }
  | { kind: 'once-at'; at: number }
  | { kind: 'each-over'; bytes: number };

export class TcpRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };
  #mode: Mode = { kind: 'off' };
  port = 0;
  /** Bytes forwarded up (client → target) since the start. */
  bytesUp = 0;
  /** True while the relay is down: connections are refused until heal(). */
  down = false;
  /** Cuts so far (an outage counts once, a cut connection once). */
  cuts = 0;
  /** Connections turned away while down. */
  refused = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { host: targetHost, port: targetPort };
    this.#server = createServer((client) => this.#relay(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this.port;
  }

  cutAfter(bytes: number): void {
    this.#mode = { kind: 'outage-at', at: this.bytesUp + bytes };
  }

  cutOnceAfter(bytes: number): void {
    this.#mode = { kind: 'once-at', at: this.bytesUp + bytes };
  }

  cutEachOver(bytes: number): void {
    this.#mode = { kind: 'each-over', bytes };
  }

  heal(): void {
    this.down = false;
    this.#mode = { kind: 'off' };
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket): void {
    if (this.down) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    const pair = [client, upstream];
    for (const s of pair) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {
        for (const p of pair) p.destroy();
      });
    }
    let carried = 0;
    client.on('data', (chunk: Buffer) => {
      if (this.down) return;
      const room = this.#room(carried);
      if (room < chunk.length) {
        if (room > 0) upstream.write(chunk.subarray(0, room));
        this.bytesUp += Math.max(0, room);
        this.#cut(pair);
        return;
      }
      carried += chunk.length;
      this.bytesUp += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (!this.down && !client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** How many more bytes this connection may carry up before it must be cut. */
  #room(carried: number): number {
    const m = this.#mode;
    if (m.kind === 'off') return Number.POSITIVE_INFINITY;
    if (m.kind === 'each-over') return m.bytes - carried;
    return m.at - this.bytesUp;
  }

  // A reset, not a clean close: the peers see the connection die mid-transfer.
  #cut(pair: Socket[]): void {
    this.cuts++;
    if (this.#mode.kind === 'once-at') {
      this.#mode = { kind: 'off' };
      for (const s of pair) s.resetAndDestroy();
      return;
    }
    if (this.#mode.kind === 'each-over') {
      for (const s of pair) s.resetAndDestroy();
      return;
    }
    this.down = true;
    for (const s of this.#sockets) s.resetAndDestroy();
  }
}

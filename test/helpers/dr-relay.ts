// A real TCP relay on loopback between a sender and a replica, for cut tests: it counts
// the bytes going up (sender → replica) and, once told, drops every connection after N
// more bytes and refuses new ones until heal().

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #target: { host: string; port: number };
  /** Bytes forwarded sender → replica since the start. */
  bytesUp = 0;
  #cutAt: number | undefined;
  down = false;
  cuts = 0;
  /** Connections turned away while down. */
  refused = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { host: targetHost, port: targetPort };
    this.#server = createServer((client) => this.#relay(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  /** Drops everything once `bytes` more have gone up, and stays down until heal(). */
  cutAfter(bytes: number): void {
    this.#cutAt = this.bytesUp + bytes;
  }

  heal(): void {
    this.down = false;
    this.#cutAt = undefined;
  }

  #relay(client: Socket): void {
    if (this.down) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (chunk: Buffer) => {
      if (this.down) return;
      const room = this.#cutAt === undefined ? chunk.length : this.#cutAt - this.bytesUp;
      if (room < chunk.length) {
        if (room > 0) upstream.write(chunk.subarray(0, room));
        this.bytesUp += Math.max(0, room);
        this.#cut();
        return;
      }
      this.bytesUp += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.down) client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  #cut(): void {
    this.down = true;
    this.cuts++;
    for (const s of this.#sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

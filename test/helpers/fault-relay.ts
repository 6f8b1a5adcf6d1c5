// A TCP relay on loopback between an agent and the vault that cuts connections after a
// number of bytes, as a flaky network or a proxy dropping a long upload would. It relays
// TLS untouched (it never sees inside), so the agent and server speak as they would.
import { createConnection, createServer, type Socket } from 'node:net';

export interface CutRelay {
  port: number;
  /** Connections cut so far. */
  cuts: number;
  /** Bytes relayed from the agent to the server so far. */
  upstreamBytes: number;
  /**
   * How the relay cuts from now on: `once` cuts one connection after `bytes` more bytes
   * have passed upstream (over all connections), then relays normally; `each` cuts every
   * connection that carries more than `bytes` upstream; `off` relays everything.
   */
  arm(mode: 'once' | 'each' | 'off', bytes?: number): void;
  close(): Promise<void>;
}

export async function startCutRelay(targetPort: number): Promise<CutRelay> {
  let mode: 'once' | 'each' | 'off' = 'off';
  let limit = 0;
  let budget = 0;
  const sockets = new Set<Socket>();
  const relay = {} as CutRelay;
  relay.cuts = 0;
  relay.upstreamBytes = 0;
  relay.arm = (m, bytes = 0) => {
    mode = m;
    limit = bytes;
    budget = bytes;
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let carried = 0;
    const cut = () => {
      relay.cuts++;
      // A reset, not a clean close: the peers see the connection die mid-transfer.
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    client.on('data', (chunk: Buffer) => {
      carried += chunk.length;
      relay.upstreamBytes += chunk.length;
      if (mode === 'each' && carried > limit) return cut();
      if (mode === 'once') {
        budget -= chunk.length;
        if (budget < 0) {
          mode = 'off';
          return cut();
        }
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  relay.port = (server.address() as { port: number }).port;
  relay.close = () =>
    new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    });
  return relay;
}

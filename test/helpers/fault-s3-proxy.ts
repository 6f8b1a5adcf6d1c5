// An HTTP proxy in front of a real S3 server (s3rver) that answers some requests with
// the errors S3 really sends (500 InternalError, 503 SlowDown, 403 AccessDenied), before
// the request reaches storage or after it has done its work (a lost reply), from a seeded
// random sequence. The vault server's region points at it, so faults come from the
// network side of its real S3 store, not from a wrapper inside the process under test.
import { createServer, request } from 'node:http';

export type S3Fault = 'slow-down' | 'internal' | 'internal-after' | 'access-denied';

export interface S3FaultRule {
  /** Which requests are eligible (method and path of the object, e.g. '/bucket/vault/…/data/…'). */
  match: (method: string, path: string) => boolean;
  /** Probability that an eligible request gets a fault. */
  rate: number;
  faults: readonly S3Fault[];
}

export interface FaultyS3Proxy {
  endpoint: string;
  /** Faults injected so far, by kind. */
  injected: Record<S3Fault, number>;
  /** Requests relayed (with or without a fault). */
  requests: number;
  setRule(rule: S3FaultRule | undefined): void;
  close(): Promise<void>;
}

const ANSWERS: Record<Exclude<S3Fault, 'internal-after'>, { status: number; code: string }> = {
  'slow-down': { status: 503, code: 'SlowDown' },
  internal: { status: 500, code: 'InternalError' },
  'access-denied': { status: 403, code: 'AccessDenied' },
};

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function errorBody(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`;
}

export async function startFaultyS3Proxy(target: string, seed = 1): Promise<FaultyS3Proxy> {
  const upstream = new URL(target);
  const random = seeded(seed);
  let rule: S3FaultRule | undefined;
  const proxy = {
    injected: { 'slow-down': 0, internal: 0, 'internal-after': 0, 'access-denied': 0 },
    requests: 0,
  } as FaultyS3Proxy;
  proxy.setRule = (r) => {
    rule = r;
  };
  const server = createServer((req, res) => {
    proxy.requests++;
    const method = req.method ?? 'GET';
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    let fault: S3Fault | undefined;
    if (rule?.match(method, path) && random() < rule.rate) {
      fault = rule.faults[Math.floor(random() * rule.faults.length)]!;
      proxy.injected[fault]++;
    }
    const answer = (status: number, code: string) => {
      const body = errorBody(code);
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (fault && fault !== 'internal-after') {
      req.resume();
      req.on('end', () => answer(ANSWERS[fault].status, ANSWERS[fault].code));
      return;
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method, path: req.url, headers: req.headers },
      (reply) => {
        if (fault === 'internal-after') {
          reply.resume();
          reply.on('end', () => answer(500, 'InternalError'));
          return;
        }
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return proxy;
}

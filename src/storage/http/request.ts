import type { IncomingHttpHeaders } from 'node:http';
import { type Agent, request } from 'node:https';
import { connectionError } from './errors.ts';
import { MAX_OBJECT_BYTES } from './protocol.ts';

// One HTTPS exchange with the vault over mutual TLS: a request with an optional body, the
// whole answer in memory (objects are at most MAX_OBJECT_BYTES). Any failure to get a
// whole answer becomes an OffsiteError (see connectionError).

export interface Connection {
  hostname: string;
  port: number;
  /** The base path of the server URL, without a trailing slash ('' for the root). */
  basePath: string;
  location: string;
  ca: string;
  cert: string;
  key: string;
  agent: Agent;
  /** A request fails when its connection sees no traffic for this long. */
  timeoutMs: number;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Past this an answer is not from a vault that keeps to MAX_OBJECT_BYTES: stop reading. */
const MAX_ANSWER_BYTES = MAX_OBJECT_BYTES + 1024 * 1024;

function timedOut(): Error {
  return Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' });
}

export function exchange(
  conn: Connection,
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(connectionError(err, conn.location));
    const req = request({
      hostname: conn.hostname,
      port: conn.port,
      path: conn.basePath + path,
      method,
      agent: conn.agent,
      ca: conn.ca,
      cert: conn.cert,
      key: conn.key,
      timeout: conn.timeoutMs,
      headers: { 'content-length': options.body?.length ?? 0, ...options.headers },
    });
    req.on('timeout', () => req.destroy(timedOut()));
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES)
          res.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('close', () => {
        if (!res.complete) fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
      });
    });
    req.end(options.body);
  });
}

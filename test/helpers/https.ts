// Raw HTTPS requests for server tests: any method, headers and body, answer as text.
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON of the answer under test
  json: () => any;
}

export interface RawOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** A client certificate and key (PEM) for mutual TLS, as an agent connects. */
  cert?: string;
  key?: string;
}

export function https(ca: string, url: string, options: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      ca,
      cert: options.cert,
      key: options.key,
      agent: false,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) }
          : {}),
        ...options.headers,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }),
      );
    });
    req.end(options.body);
  });
}

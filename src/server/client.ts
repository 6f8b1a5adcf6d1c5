import { type Agent, request } from 'node:https';
import { AuthError, BadInputError, errnoCode, TransientError } from '../errors/index.ts';
import { errorFromResponse } from './http-status.ts';

// A small HTTPS client of the vault API for the CLI and the agent: JSON in, JSON out,
// trusting only the vault's CA, authenticated by an API token or a client certificate.
// Errors come back as the server's own codes, messages and hints.

export interface ClientOptions {
  /** https://host:port */
  server: string;
  /** An API token (people, scripts); agents use a client certificate instead. */
  token?: string;
  /** Client certificate and key (PEM) for mutual TLS: how a registered agent calls. */
  certPem?: string;
  keyPem?: string;
  /** PEM of the CA that issued the server's certificate; nothing else is trusted. */
  caPem: string;
  timeoutMs?: number;
  /** The https.Agent that makes the connections (e.g. through a proxy); default Node's global one. */
  agent?: Agent;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

function baseUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new BadInputError('BAD_SERVER_URL', `"${server}" is not a URL`, {
      hint: 'e.g. https://vault.example:8443',
    });
  }
  if (url.protocol !== 'https:') {
    throw new BadInputError('BAD_SERVER_URL', 'the server URL must start with https://');
  }
  return url;
}

function connectionError(err: unknown, server: string): Error {
  const code = errnoCode(err) ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return new AuthError('SERVER_NOT_TRUSTED', `the certificate of ${server} is not trusted (${code})`, {
      hint: 'set OFFSITE_CA_CERT to the ca.pem of this vault server, and use a host name its certificate covers',
    });
  }
  return new TransientError('SERVER_UNREACHABLE', `cannot reach ${server}: ${code || String(err)}`, {
    hint: 'check OFFSITE_SERVER and that the server is running',
    cause: err,
  });
}

function parse(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class ServerClient {
  readonly #options: ClientOptions;
  readonly #base: URL;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#base = baseUrl(options.server);
  }

  /**
   * The parsed JSON answer; a non-2xx answer throws the server's error. A reused
   * kept-alive socket the server had already closed is reset before the request reaches
   * it, so that case alone is sent once more on a fresh connection.
   */
  call(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.#send(method, path, body, true);
  }

  #send(method: string, path: string, body: unknown, retryStale: boolean): Promise<unknown> {
    const url = new URL(path, this.#base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        ...(this.#options.agent ? { agent: this.#options.agent } : {}),
        ca: this.#options.caPem,
        cert: this.#options.certPem,
        key: this.#options.keyPem,
        timeout: this.#options.timeoutMs ?? 30_000,
        headers: {
          ...(this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {}),
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => {
        if (retryStale && req.reusedSocket && errnoCode(err) === 'ECONNRESET') {
          resolve(this.#send(method, path, body, false));
          return;
        }
        reject(connectionError(err, this.#base.origin));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(connectionError(err, this.#base.origin)));
        res.on('end', () => {
          const answer = parse(Buffer.concat(chunks).toString('utf8'));
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(answer);
          else reject(errorFromResponse(status, answer));
        });
      });
      req.end(payload);
    });
  }
}

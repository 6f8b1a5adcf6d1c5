import { request } from 'node:https';
import { AuthError, type ErrorKind, errnoCode, errorOfKind, TransientError } from '../../errors/index.ts';

// HTTPS with JSON to the vault server, trusting only the vault's CA, as the site agent
// calls it: by its client certificate (or, to register, by nothing but the secret in the
// body). The server's errors come back with their codes, messages and hints.

export interface SiteClientOptions {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  timeoutMs?: number;
}

const KIND_BY_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'bad-input',
  401: 'auth',
  403: 'auth',
  404: 'not-found',
  409: 'conflict',
  413: 'bad-input',
  429: 'transient',
  503: 'transient',
  507: 'quota',
};

function failure(status: number, body: unknown): Error {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof fields.error === 'string' ? fields.error : `HTTP_${status}`;
  const message = typeof fields.message === 'string' ? fields.message : `the server answered HTTP ${status}`;
  const hint = typeof fields.hint === 'string' ? fields.hint : undefined;
  const kind = KIND_BY_STATUS[status] ?? (status >= 500 ? 'transient' : 'internal');
  return errorOfKind(kind, code, message, hint ? { hint } : {});
}

function unreachable(err: unknown, server: string): Error {
  const code = errnoCode(err) ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO/.test(code)) {
    return new AuthError('SERVER_NOT_TRUSTED', `the certificate of ${server} is not trusted (${code})`, {
      hint: "the site agent trusts only the CA of its vault server's credentials file",
    });
  }
  return new TransientError('SERVER_UNREACHABLE', `cannot reach ${server}: ${code || String(err)}`, {
    cause: err,
  });
}

export class SiteClient {
  readonly #options: SiteClientOptions;

  constructor(options: SiteClientOptions) {
    this.#options = options;
  }

  call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.#options.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        agent: false,
        ca: this.#options.caPem,
        cert: this.#options.certPem,
        key: this.#options.keyPem,
        timeout: this.#options.timeoutMs ?? 30_000,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(unreachable(err, url.origin)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(unreachable(err, url.origin)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let answer: unknown;
          try {
            answer = text === '' ? undefined : JSON.parse(text);
          } catch {
            answer = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(answer);
          else reject(failure(status, answer));
        });
      });
      req.end(payload);
    });
  }
}

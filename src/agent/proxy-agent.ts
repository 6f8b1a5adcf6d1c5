import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AuthError, BadInputError, errnoCode, type OffsiteError, TransientError } from '../errors/index.ts';

// Every connection of the agent to its vault can go through a company's HTTP proxy: a
// CONNECT request (with basic authentication) opens a tunnel to the vault, and TLS with
// the agent's client certificate runs inside it, end to end, so the proxy sees only
// ciphertext. Written as an https.Agent, so the JSON client and the repository store
// both take it as they are.

export interface ProxyEndpoint {
  host: string;
  port: number;
  user?: string;
  /** Never put in a message, a log or an error. */
  password?: string;
}

/** host:port of the proxy, as messages name it (never the user's password). */
export function proxyName(proxy: Pick<ProxyEndpoint, 'host' | 'port'>): string {
  return `${proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host}:${proxy.port}`;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ANSWER_HEADER_BYTES = 16 * 1024;
const MAX_SOCKETS = 16;

/** Errors this module made, so callers can find them under the wrappers of HTTP clients. */
const proxyErrors = new WeakSet<object>();

function mark<E extends OffsiteError>(err: E): E {
  proxyErrors.add(err);
  return err;
}

/** The proxy's own error when `err` is (or was caused by) one, else undefined. */
export function proxyErrorOf(err: unknown): OffsiteError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (proxyErrors.has(current)) return current as OffsiteError;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function unreachable(proxy: ProxyEndpoint, why: string, cause?: unknown): OffsiteError {
  if (why === 'ENOTFOUND') {
    return mark(
      new BadInputError('PROXY_UNKNOWN_HOST', `the proxy host ${proxy.host} does not resolve (ENOTFOUND)`, {
        hint: 'check the proxy URL: offsite agent proxy show, then offsite agent proxy set URL',
        cause,
      }),
    );
  }
  return mark(
    new TransientError('PROXY_UNREACHABLE', `cannot reach the proxy ${proxyName(proxy)}: ${why}`, {
      hint: 'check that the proxy is running and that `offsite agent proxy show` names the right one',
      cause,
    }),
  );
}

function authFailed(proxy: ProxyEndpoint, status: number, text: string): OffsiteError {
  const who = proxy.user
    ? `the credentials of user ${proxy.user}`
    : 'the connection: it needs a user and password';
  // tinyproxy 1.11.1 answers a CONNECT with a wrong password 401 (its issue #532): an
  // answer to CONNECT always comes from the proxy itself, so it is the same refusal.
  const actual =
    status === 407 ? '' : ` (it answered ${status} ${text}, which some proxies send instead of 407)`;
  return mark(
    new AuthError(
      'PROXY_AUTH_FAILED',
      `proxy authentication failed (HTTP 407 Proxy Authentication Required): the proxy ${proxyName(proxy)} refused ${who}${actual}`,
      {
        hint: 'set the proxy user and password again: offsite agent proxy set URL --user USER --password-file FILE',
      },
    ),
  );
}

function refusal(proxy: ProxyEndpoint, status: number, text: string, target: string): OffsiteError {
  if (status === 407 || status === 401) return authFailed(proxy, status, text);
  const message = `the proxy ${proxyName(proxy)} answered ${status}${text ? ` ${text}` : ''} to a tunnel to ${target}`;
  if (status >= 500) {
    return mark(
      new TransientError('PROXY_TUNNEL_FAILED', message, {
        hint: 'the proxy could not reach the vault server: check that it is running and that the proxy may reach it',
      }),
    );
  }
  return mark(
    new AuthError('PROXY_REFUSED', message, {
      hint: `the proxy must allow CONNECT to ${target} (e.g. tinyproxy: ConnectPort; squid: SSL_ports)`,
    }),
  );
}

function connectRequest(proxy: ProxyEndpoint, target: string): string {
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.user !== undefined) {
    const basic = Buffer.from(`${proxy.user}:${proxy.password ?? ''}`, 'utf8').toString('base64');
    lines.push(`Proxy-Authorization: Basic ${basic}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A TCP connection to the proxy, turned into a tunnel to `target` (host:port). */
function openTunnel(proxy: ProxyEndpoint, target: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: proxy.host, port: proxy.port });
    let header = Buffer.alloc(0);
    const timer = setTimeout(() => fail(unreachable(proxy, `no answer in ${timeoutMs} ms`)), timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      socket.off('readable', onReadable).off('error', onError).off('close', onClose);
    };
    const fail = (err: Error) => {
      stop();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(unreachable(proxy, errnoCode(err) ?? err.message, err));
    const onClose = () => fail(unreachable(proxy, 'it closed the connection before answering'));
    const onReadable = () => {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        header = Buffer.concat([header, chunk]);
      }
      const end = header.indexOf('\r\n\r\n');
      if (end < 0 && header.length <= MAX_ANSWER_HEADER_BYTES) return;
      const status = /^HTTP\/1\.[01] (\d{3}) ?([^\r\n]*)/.exec(header.toString('latin1'));
      if (!status || end < 0) {
        fail(
          mark(
            new BadInputError('PROXY_BAD_ANSWER', `${proxyName(proxy)} did not answer as an HTTP proxy`, {
              hint: 'the proxy URL must name an HTTP proxy that supports CONNECT (http://host:port)',
            }),
          ),
        );
      } else if (status[1] !== '200') {
        fail(refusal(proxy, Number(status[1]), status[2]!.trim(), target));
      } else if (end + 4 < header.length) {
        fail(unreachable(proxy, 'it sent data before the tunnel was open'));
      } else {
        stop();
        resolve(socket);
      }
    };
    socket.once('connect', () => socket.write(connectRequest(proxy, target)));
    socket.on('readable', onReadable).on('error', onError).on('close', onClose);
  });
}

/**
 * An https.Agent whose every connection is tunnelled through an HTTP proxy. TLS options
 * (the vault's CA, the client certificate) come with each request as usual, and TLS
 * sessions are cached as https.Agent does. Connections are kept alive and reused, so a
 * backup opens few tunnels. Failures to open a tunnel are OffsiteErrors naming the proxy
 * (find them with proxyErrorOf under an HTTP client's own wrapping).
 */
export class ProxyAgent extends Agent {
  readonly #proxy: ProxyEndpoint;

  constructor(proxy: ProxyEndpoint, options: AgentOptions = {}) {
    super({ keepAlive: true, maxSockets: MAX_SOCKETS, ...options });
    this.#proxy = { ...proxy };
  }

  /** Where connections go, for messages: host:port, never the password. */
  get proxy(): string {
    return proxyName(this.#proxy);
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = (options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    const target = proxyName({ host, port: Number(options.port ?? 443) });
    const timeoutMs = options.timeout ?? DEFAULT_TIMEOUT_MS;
    openTunnel(this.#proxy, target, timeoutMs).then(
      (socket) => {
        let tls: Duplex | null | undefined;
        try {
          tls = super.createConnection({ ...options, socket } as RequestOptions);
        } catch (err) {
          socket.destroy();
          callback?.(err as Error, undefined as unknown as Duplex);
          return;
        }
        callback?.(null, tls as Duplex);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BadInputError, isOffsiteError } from '../errors/index.ts';
import { issueLoginLink } from '../vault/ops/index.ts';
import { authenticateAgent, requirePeer } from './agent-auth.ts';
import { audited } from './audit.ts';
import { auditTasks } from './audit-tasks.ts';
import { hashToken, newToken, requireRole } from './auth.ts';
import { type Background, startBackground } from './background.ts';
import { BodyTooLargeError, readJson } from './body.ts';
import { type Bootstrapped, bootstrap, type DataFiles } from './bootstrap.ts';
import { authenticatePerson } from './console-routes.ts';
import { drAutoTasks } from './dr-auto-tasks.ts';
import { drPlanTasks } from './dr-plan-tasks.ts';
import { drTasks } from './dr-tasks.ts';
import { geoTasks } from './geo-tasks.ts';
import { errorBody, statusFor } from './http-status.ts';
import { parseListen, urlFor } from './listen.ts';
import { RequestMetrics, UNMATCHED } from './metrics.ts';
import { OPS_TASKS } from './ops-tasks.ts';
import { FailureLimiter, RateLimitedError } from './rate-limit.ts';
import { regionStores } from './regions.ts';
import { RETENTION_TASKS } from './retention-tasks.ts';
import { MethodNotAllowedError, Router } from './router.ts';
import { routeTable } from './routes.ts';
import { apiRoots, ConsoleFiles, isConsoleRequest } from './static.ts';
import type { Region, Route, RouteResult, Services } from './types.ts';

// The vault server: node:https (TLS 1.2+, client certificates requested but not yet
// required) over the route table, one error handler, one JSON log line per request.

export type LogEntry = Record<string, unknown>;
export type Logger = (entry: LogEntry) => void;

/** One JSON object per line on stderr. */
export const stderrLogger: Logger = (entry) => {
  process.stderr.write(`${JSON.stringify(entry)}\n`);
};

export interface ServerOptions {
  dataDir: string;
  /** 'HOST:PORT'; port 0 picks a free one. */
  listen: string;
  /** Empty: one region "local" in DATA_DIR/regions/local. */
  regions?: readonly Region[];
  /** A PostgreSQL catalog shared by several vault servers; default DATA_DIR/catalog.sqlite. */
  catalogUrl?: string;
  /** The URL agents are told to use; default the listen address (localhost for a wildcard). */
  publicUrl?: string;
  /** The clock; tests inject one. */
  now?: () => number;
  /** Run the periodic tasks on their timers (default true); tests run them with runNow. */
  background?: boolean;
  log?: Logger;
  /** How long a site agent may be silent before its site is marked down; default 60 s. */
  siteDownAfterMs?: number;
  /** Alert when a vault's secondary region is this far behind (default 1 h). */
  replicationLagAlertMs?: number;
  /** How long close() lets in-flight requests run before cutting them; default 10 s. */
  closeTimeoutMs?: number;
  /** How long audit entries are kept (default 400 days). */
  auditRetentionMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  caPem: string;
  files: DataFiles;
  regions: readonly Region[];
  /** The one-time console login link (valid 15 minutes, usable once). */
  loginUrl: string;
  /** The periodic tasks (retention, garbage collection, usage, alerts, webhooks). */
  background: Background;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the catalog. */
  close(): Promise<void>;
}

const MAX_LOGGED_PATH = 200;

function splitUrl(raw: string | undefined): { pathname: string; query: URLSearchParams } {
  const url = raw ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  if (!pathname.startsWith('/')) throw new BadInputError('BAD_PATH', 'the request path must start with /');
  return { pathname, query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)) };
}

/**
 * On every answer: the server speaks only HTTPS (HSTS), nothing it sends may be sniffed
 * into another type, framed by another site or loaded as a script or style from
 * elsewhere, and no URL leaks through the Referer header.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=31536000',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function send(res: ServerResponse, status: number, result: RouteResult): void {
  const payload = !result.contentType
    ? JSON.stringify(result.body)
    : Buffer.isBuffer(result.body)
      ? result.body
      : String(result.body);
  res.statusCode = status;
  res.setHeader('Content-Type', result.contentType ?? 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  res.end(payload);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = statusFor(err);
  if (err instanceof MethodNotAllowedError) res.setHeader('Allow', err.allow.join(', '));
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  if (err instanceof RateLimitedError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  if (err instanceof BodyTooLargeError && err.undrained) res.setHeader('Connection', 'close');
  send(res, status, { body: errorBody(err) });
}

/** Who is calling, as the route's auth kind asks; each kind throws 401/403 when unmet. */
async function caller(services: Services, route: Route, req: IncomingMessage) {
  const now = services.now();
  if (route.auth === 'token') {
    const token = await authenticatePerson(req, services.catalog, services.ca, now);
    if (route.minRole) requireRole(token, route.minRole);
    return { token, agent: undefined, peer: undefined };
  }
  if (route.auth === 'public') return { token: undefined, agent: undefined, peer: undefined };
  const peer = requirePeer(req, now);
  const agent = route.auth === 'agent' ? await authenticateAgent(peer, services.catalog, now) : undefined;
  return { token: undefined, agent, peer };
}

interface Handler {
  router: Router;
  services: Services;
  metrics: RequestMetrics;
  log: Logger;
  isClosing: () => boolean;
  console: ConsoleFiles;
  apiRoots: ReadonlySet<string>;
}

/** What the log line needs to know about a request once it is answered. */
interface Outcome {
  route: string;
  error?: string;
}

async function answer(
  h: Handler,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: Outcome,
): Promise<void> {
  const { pathname, query } = splitUrl(req.url);
  if (isConsoleRequest(req.method ?? '', pathname, h.apiRoots)) {
    outcome.route = 'console';
    send(res, 200, await h.console.file(pathname));
    return;
  }
  const { route, params } = h.router.match(req.method ?? '', pathname);
  outcome.route = route.path;
  const result = await audited(h.services, route, req, params, async (seen) => {
    const { token, agent, peer } = await caller(h.services, route, req);
    const body = route.body === 'stream' ? undefined : await readJson(req, route.bodyLimit);
    const ctx = { params, query, body, token, agent, peer, services: h.services, request: req };
    return route.handler(await seen(ctx));
  });
  if (h.isClosing()) res.setHeader('Connection', 'close');
  send(res, result.status ?? 200, result);
}

function logRequest(
  h: Handler,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: Outcome,
  started: number,
) {
  const ms = Math.round((performance.now() - started) * 10) / 10;
  // 499 (as nginx logs it): the client went away before the answer was complete.
  const status = res.writableFinished ? res.statusCode : 499;
  h.metrics.record(req.method ?? '', outcome.route, status, ms);
  // The path only: no query string, no headers, so a token can never reach the log.
  const path = (req.url ?? '').split('?')[0]!.slice(0, MAX_LOGGED_PATH);
  const { route, error } = outcome;
  h.log({
    time: new Date().toISOString(),
    msg: 'request',
    method: req.method,
    path,
    route,
    status,
    ms,
    error,
  });
}

function onRequest(h: Handler, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const outcome: Outcome = { route: UNMATCHED };
  if (h.isClosing()) res.setHeader('Connection', 'close');
  res.on('close', () => logRequest(h, req, res, outcome, started));
  answer(h, req, res, outcome).catch((err: unknown) => {
    outcome.error = isOffsiteError(err) ? err.code : 'INTERNAL';
    if (!isOffsiteError(err)) {
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      h.log({ time: new Date().toISOString(), msg: 'unexpected error', level: 'error', error: detail });
    }
    if (h.isClosing() && !res.headersSent) res.setHeader('Connection', 'close');
    sendError(res, err);
  });
}

function tlsServer(boot: Bootstrapped, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer(
    {
      key: boot.tls.keyPem,
      cert: boot.tls.certPem,
      ca: boot.caPem,
      minVersion: 'TLSv1.2',
      // Agents will authenticate with client certificates; people use tokens, so a
      // connection without one is allowed and each route decides.
      requestCert: true,
      rejectUnauthorized: false,
    },
    handler,
  );
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      reject(
        new BadInputError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, {
          hint: 'choose another --listen address or stop what is using it',
        }),
      );
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closer(
  server: Server,
  boot: Bootstrapped,
  background: Background,
  timeoutMs: number,
  setClosing: () => void,
) {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      setClosing();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
      await stopped;
      clearTimeout(timer);
      await background.stop();
      await boot.catalog.close();
    })();
    return closing;
  };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { host, port } = parseListen(options.listen);
  const boot = await bootstrap({
    dataDir: options.dataDir,
    host,
    regions: options.regions ?? [],
    ...(options.catalogUrl ? { catalogUrl: options.catalogUrl } : {}),
    ...(options.publicUrl ? { publicHost: new URL(options.publicUrl).hostname.replace(/^\[|\]$/g, '') } : {}),
  });
  const metrics = new RequestMetrics();
  let closing = false;
  const log = options.log ?? stderrLogger;
  const router = new Router(routeTable());
  const h: Handler = {
    router,
    services: {
      catalog: boot.catalog,
      log,
      regions: boot.regions,
      regionStore: regionStores(boot.regions),
      ca: boot.ca,
      publicUrl: '',
      limits: new FailureLimiter({ maxFailures: 10, windowMs: 15 * 60_000 }),
      now: options.now ?? Date.now,
      metricsText: () => metrics.text(),
    },
    metrics,
    log,
    isClosing: () => closing,
    console: new ConsoleFiles(),
    apiRoots: apiRoots(router.routes),
  };
  const server = tlsServer(boot, (req, res) => onRequest(h, req, res));
  let bound: number;
  try {
    bound = await listenOn(server, host, port);
  } catch (err) {
    await boot.catalog.close();
    throw err;
  }
  h.services.publicUrl = options.publicUrl ?? urlFor(host, bound);
  const loginCode = newToken();
  await issueLoginLink(boot.catalog, hashToken(loginCode), h.services.now());
  const tasks = [
    ...RETENTION_TASKS,
    ...OPS_TASKS,
    ...geoTasks({ replicationLagAlertMs: options.replicationLagAlertMs }),
    ...drTasks({ siteDownAfterMs: options.siteDownAfterMs }),
    ...drPlanTasks(),
    ...drAutoTasks(),
    ...auditTasks({ retentionMs: options.auditRetentionMs }),
  ];
  const background = startBackground(tasks, h.services, h.log, {
    timers: options.background !== false,
    predecessorFile: join(options.dataDir, 'background-holder'),
  });
  return {
    url: urlFor(host, bound),
    port: bound,
    caPem: boot.caPem,
    files: boot.files,
    regions: boot.regions,
    background,
    loginUrl: `${h.services.publicUrl}/#login=${loginCode}`,
    close: closer(server, boot, background, options.closeTimeoutMs ?? 10_000, () => {
      closing = true;
    }),
  };
}

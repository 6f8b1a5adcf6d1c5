import type { IncomingMessage } from 'node:http';
import type { BlobStore } from '../storage/index.ts';
import type { Catalog, Role, ServerRow, TokenRow, VaultRow } from '../vault/catalog/index.ts';
import type { FailureLimiter } from './rate-limit.ts';

// The shapes the route table, the router and the handlers share.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/**
 * Who may call a route: anyone; a person or script with an API token (and at least
 * minRole); a registered agent, by the client certificate of its TLS connection; or any
 * caller that presents a client certificate (registration with an uploaded one).
 */
export type RouteAuth = 'public' | 'token' | 'agent' | 'client-cert';

/** A registered agent, known by the certificate its TLS connection presented. */
export interface AgentIdentity {
  server: ServerRow;
  vault: VaultRow;
}

/** The client certificate of a TLS connection, verified by the handshake to be held. */
export interface PeerCertificate {
  /** SHA-256 of the DER, 64 lowercase hex digits. */
  fingerprint256: string;
  der: Buffer;
  notBefore: number;
  notAfter: number;
}

/** The vault's certificate authority: it issues agents their client certificates. */
export interface Authority {
  certPem: string;
  keyPem: string;
}

/** A storage location vaults are created in: file://, azure:// or s3:// (no secrets in the URL). */
export interface Region {
  name: string;
  url: string;
}

/** What a handler may use: the catalog, the configured regions, the clock. */
export interface Services {
  catalog: Catalog;
  regions: readonly Region[];
  /** The storage of a configured region (UNKNOWN_REGION when the server has none of that name). */
  regionStore: (region: string) => BlobStore;
  ca: Authority;
  /** The URL agents reach this server at (written into vault credentials files). */
  publicUrl: string;
  /** Failed sign-ins and registrations, per address and per name (guessing online is slow). */
  limits: FailureLimiter;
  now: () => number;
  /** The server's structured log (one JSON object per entry; never a secret). */
  log: (entry: Record<string, unknown>) => void;
  /** Prometheus text of the server's own counters (the /metrics route adds catalog gauges). */
  metricsText: () => string;
}

export interface RequestContext {
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** Parsed JSON, or undefined when the request had no body. */
  body: unknown;
  /** The caller's token row on 'token' routes; never the token itself. */
  token: TokenRow | undefined;
  /** The calling agent on 'agent' routes. */
  agent: AgentIdentity | undefined;
  /** The connection's client certificate on 'agent' and 'client-cert' routes. */
  peer: PeerCertificate | undefined;
  services: Services;
  request: IncomingMessage;
}

export interface RouteResult {
  status?: number;
  /** Serialised as JSON unless contentType says otherwise (then a string, or a Buffer sent as it is). */
  body: unknown;
  contentType?: string;
  /** More response headers (e.g. Content-Range); they win over the defaults, so a HEAD answer can give its own Content-Length. */
  headers?: Readonly<Record<string, string | number>>;
}

/** A JSON Schema fragment; only what the OpenAPI document needs. */
export type Schema = Record<string, unknown>;

export interface Route {
  method: HttpMethod;
  /** Literal segments and `:name` parameters, e.g. '/v1/vaults/:name'. */
  path: string;
  auth: RouteAuth;
  minRole?: Role;
  /** Largest accepted request body in bytes; 0 refuses any body. */
  bodyLimit: number;
  /**
   * 'json' (default): the body is read and parsed before the handler runs. 'stream': the
   * handler reads `request` itself (uploads), and must enforce bodyLimit while it does.
   */
  body?: 'json' | 'stream';
  summary: string;
  /** Tags group routes in the OpenAPI document. */
  tag: string;
  requestBody?: Schema;
  response?: { status: number; schema: Schema; contentType?: string };
  handler: (ctx: RequestContext) => Promise<RouteResult>;
}

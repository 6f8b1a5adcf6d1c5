import type { IncomingMessage } from 'node:http';
import type { Catalog, Role, TokenRow } from '../vault/catalog/index.ts';

// The shapes the route table, the router and the handlers share.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** Who may call a route: anyone, or a caller with an API token (and at least minRole). */
export type RouteAuth = 'public' | 'token';

/** A storage location vaults are created in; only file:// for now. */
export interface Region {
  name: string;
  url: string;
}

/** What a handler may use: the catalog, the configured regions, the clock. */
export interface Services {
  catalog: Catalog;
  regions: readonly Region[];
  now: () => number;
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
  services: Services;
  request: IncomingMessage;
}

export interface RouteResult {
  status?: number;
  /** Serialised as JSON unless contentType says otherwise (then it must be a string). */
  body: unknown;
  contentType?: string;
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
  summary: string;
  /** Tags group routes in the OpenAPI document. */
  tag: string;
  requestBody?: Schema;
  response?: { status: number; schema: Schema; contentType?: string };
  handler: (ctx: RequestContext) => Promise<RouteResult>;
}

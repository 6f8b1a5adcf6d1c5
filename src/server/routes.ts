import { ADMIN_ROUTES } from './admin-routes.ts';
import { AGENT_ROUTES } from './agent-routes.ts';
import { AUDIT_ROUTES } from './audit-routes.ts';
import { CONSOLE_ROUTES } from './console-routes.ts';
import { DATA_ROUTES } from './data-routes.ts';
import { DIRECT_ROUTES } from './direct-routes.ts';
import { DR_PLAN_ROUTES } from './dr-plan-routes.ts';
import { DR_ROUTES } from './dr-routes.ts';
import { GEO_ROUTES } from './geo-routes.ts';
import { JOB_ROUTES } from './job-routes.ts';
import { gauge } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { PEOPLE_ROUTES } from './people-routes.ts';
import { POINT_ROUTES } from './point-routes.ts';
import { PROBE_ROUTES } from './probe-routes.ts';
import { REGISTRATION_ROUTES } from './registration-routes.ts';
import { RESTORE_ROUTES } from './restore-routes.ts';
import type { RequestContext, Route, RouteResult } from './types.ts';
import { VAULT_ROUTES } from './vault-routes.ts';

// The route table: every endpoint of the server, in one declarative list. The router
// matches it, the OpenAPI document is generated from it, and tests enumerate it.

export const API_VERSION = '0.1.0';

async function healthz(): Promise<RouteResult> {
  return { body: { status: 'ok' } };
}

async function metrics(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const all = await catalog.listVaults({ includeDeleted: true });
  const active = all.filter((v) => v.deletedAt === null).length;
  const text =
    ctx.services.metricsText() +
    gauge('offsite_vaults', 'Vaults that are not deleted.', active) +
    gauge('offsite_vaults_soft_deleted', 'Vaults that are soft-deleted.', all.length - active);
  return { body: text, contentType: 'text/plain; version=0.0.4; charset=utf-8' };
}

const SYSTEM_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    auth: 'public',
    bodyLimit: 0,
    summary: 'Liveness: the server answers',
    tag: 'system',
    response: { status: 200, schema: { type: 'object', properties: { status: { const: 'ok' } } } },
    handler: healthz,
  },
  {
    method: 'GET',
    path: '/metrics',
    auth: 'public',
    bodyLimit: 0,
    summary: 'Prometheus metrics: requests by route and status, vault counts',
    tag: 'system',
    response: { status: 200, schema: { type: 'string' }, contentType: 'text/plain' },
    handler: metrics,
  },
];

const OPENAPI_ROUTE: Omit<Route, 'handler'> = {
  method: 'GET',
  path: '/v1/openapi.json',
  auth: 'public',
  bodyLimit: 0,
  summary: 'This OpenAPI 3.1 document',
  tag: 'system',
  response: { status: 200, schema: { type: 'object' } },
};

/** The whole table, the OpenAPI route included (its document describes the table itself). */
export function routeTable(): Route[] {
  const routes: Route[] = [
    ...SYSTEM_ROUTES,
    ...VAULT_ROUTES,
    ...REGISTRATION_ROUTES,
    ...POINT_ROUTES,
    ...JOB_ROUTES,
    ...PEOPLE_ROUTES,
    ...CONSOLE_ROUTES,
    ...ADMIN_ROUTES,
    ...AGENT_ROUTES,
    ...DATA_ROUTES,
    ...DIRECT_ROUTES,
    ...GEO_ROUTES,
    ...RESTORE_ROUTES,
    ...DR_ROUTES,
    ...DR_PLAN_ROUTES,
    ...AUDIT_ROUTES,
    ...PROBE_ROUTES,
  ];
  let document: unknown;
  routes.push({ ...OPENAPI_ROUTE, handler: async () => ({ body: document }) });
  document = openApiDocument(routes, API_VERSION);
  return routes;
}

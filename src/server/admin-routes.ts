import { BadInputError } from '../errors/index.ts';
import { redeemLoginLink } from '../vault/ops/index.ts';
import { rebuildCatalog } from '../vault/rebuild.ts';
import { hashToken, newToken } from './auth.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult } from './types.ts';

// Server-wide administration.

async function rebuild(ctx: RequestContext): Promise<RouteResult> {
  if (ctx.token?.vaultId != null) throw forbidden('a token scoped to one vault cannot rebuild the catalog');
  const { services } = ctx;
  const stores = services.regions.map((r) => services.regionStore(r.name));
  return { body: await rebuildCatalog(services.catalog, stores, services.now()) };
}

async function redeemLink(ctx: RequestContext): Promise<RouteResult> {
  const { code } = (ctx.body ?? {}) as { code?: unknown };
  if (typeof code !== 'string' || code.length > 100)
    throw new BadInputError('BAD_FIELD', 'code: the code of the login link');
  const session = newToken();
  const now = ctx.services.now();
  const keys = [`link-ip:${ctx.request.socket.remoteAddress}`];
  const row = await ctx.services.limits.guard(keys, now, () =>
    redeemLoginLink(ctx.services.catalog, hashToken(code), hashToken(session), now),
  );
  return { body: { token: session, expiresAt: new Date(row.expiresAt!).toISOString(), role: row.role } };
}

export const ADMIN_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/login/link',
    auth: 'public',
    bodyLimit: 1024,
    summary: 'Open a console session with the one-time login link the server printed at start',
    tag: 'people',
    requestBody: {
      type: 'object',
      required: ['code'],
      properties: { code: { type: 'string', writeOnly: true } },
    },
    response: {
      status: 200,
      schema: {
        type: 'object',
        properties: { token: { type: 'string' }, expiresAt: { type: 'string' }, role: {} },
      },
    },
    handler: redeemLink,
  },
  {
    method: 'POST',
    path: '/v1/admin/rebuild-catalog',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'Bring back from storage every vault, server, pack and recovery point the catalog lacks',
    tag: 'admin',
    response: {
      status: 200,
      schema: {
        type: 'object',
        properties: {
          vaults: { type: 'integer' },
          servers: { type: 'integer' },
          packs: { type: 'integer' },
          points: { type: 'integer' },
          softDeleted: { type: 'integer' },
          problems: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    handler: rebuild,
  },
];

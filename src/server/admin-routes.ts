import { rebuildCatalog } from '../vault/rebuild.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult } from './types.ts';

// Server-wide administration.

async function rebuild(ctx: RequestContext): Promise<RouteResult> {
  if (ctx.token?.vaultId != null) throw forbidden('a token scoped to one vault cannot rebuild the catalog');
  const { services } = ctx;
  const stores = services.regions.map((r) => services.regionStore(r.name));
  return { body: await rebuildCatalog(services.catalog, stores, services.now()) };
}

export const ADMIN_ROUTES: readonly Route[] = [
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

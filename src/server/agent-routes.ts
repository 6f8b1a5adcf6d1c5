import { BadInputError } from '../errors/index.ts';
import type { PointRow } from '../vault/catalog/index.ts';
import { commitRecoveryPoint, parseCommit } from '../vault/points.ts';
import { renewAgentCertificate } from '../vault/registration.ts';
import { SERVER_SCHEMA, serverJson } from './registration-routes.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';
import { VAULT_SCHEMA, vaultJson } from './vault-routes.ts';

// What a registered agent calls besides its repository's objects: who it is, a fresh
// certificate, and the commit of a recovery point.

const KIB = 1024;

export function pointJson(p: PointRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: p.id,
    serverId: p.serverId,
    snapshot: p.snapshotName,
    time: iso(p.time),
    stats: p.stats,
    packCount: p.packCount,
    committedAt: iso(p.committedAt),
    softDeletedAt: iso(p.softDeletedAt),
    deletedAt: iso(p.deletedAt),
  };
}

const POINT_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    serverId: { type: 'string' },
    snapshot: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    stats: { type: 'object' },
    packCount: { type: 'integer' },
    committedAt: { type: 'string', format: 'date-time' },
    softDeletedAt: { type: ['string', 'null'] },
    deletedAt: { type: ['string', 'null'] },
  },
};

async function whoami(ctx: RequestContext): Promise<RouteResult> {
  const { server, vault } = ctx.agent!;
  return { body: { server: serverJson(server), vault: vaultJson(vault), policy: vault.policy } };
}

async function renew(ctx: RequestContext): Promise<RouteResult> {
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object') throw new BadInputError('BAD_BODY', 'send {publicKey}');
  const { server, vault } = ctx.agent!;
  const { services } = ctx;
  const renewed = await renewAgentCertificate(
    services.catalog,
    services.regionStore,
    services.ca,
    server,
    vault,
    body.publicKey,
    services.now(),
  );
  return { body: { server: serverJson(renewed.server), certificate: renewed.certPem } };
}

async function commit(ctx: RequestContext): Promise<RouteResult> {
  const agent = ctx.agent!;
  const { services } = ctx;
  const region = services.regionStore(agent.vault.region);
  const point = await commitRecoveryPoint(
    services.catalog,
    region,
    agent,
    parseCommit(ctx.body),
    services.now(),
  );
  return { status: 201, body: pointJson(point) };
}

export const AGENT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/agent/whoami',
    auth: 'agent',
    bodyLimit: 0,
    summary: 'The calling agent: its server, its vault and the vault policy',
    tag: 'agent',
    response: {
      status: 200,
      schema: { type: 'object', properties: { server: SERVER_SCHEMA, vault: VAULT_SCHEMA, policy: {} } },
    },
    handler: whoami,
  },
  {
    method: 'POST',
    path: '/v1/agent/renew',
    auth: 'agent',
    bodyLimit: 16 * KIB,
    summary: 'A new client certificate for the agent public key (credentials registrations)',
    tag: 'agent',
    requestBody: { type: 'object', required: ['publicKey'], properties: { publicKey: { type: 'string' } } },
    response: { status: 200, schema: { type: 'object', properties: { certificate: { type: 'string' } } } },
    handler: renew,
  },
  {
    method: 'POST',
    path: '/v1/agent/points',
    auth: 'agent',
    bodyLimit: 80 * 1024 * KIB,
    summary: 'Commit a recovery point: its stored snapshot, statistics and every pack it needs',
    tag: 'agent',
    requestBody: {
      type: 'object',
      required: ['snapshot', 'time', 'stats', 'packs'],
      properties: {
        snapshot: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        time: { type: 'string', format: 'date-time' },
        stats: { type: 'object' },
        packs: { type: 'array', items: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      },
    },
    response: { status: 201, schema: POINT_SCHEMA },
    handler: commit,
  },
];

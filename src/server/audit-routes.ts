import { BadInputError } from '../errors/index.ts';
import { verifyAuditLog } from '../vault/audit/index.ts';
import type { AuditEntry, AuditListOptions } from '../vault/catalog/index.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// Reading the audit log: owners only. A token limited to one vault reads that vault's
// entries only and cannot verify the whole chain (which would show every vault's).

const DEFAULT_PAGE = 500;
const MAX_PAGE = 5000;

const ENTRY_SCHEMA: Schema = {
  type: 'object',
  required: ['seq', 'time', 'actor', 'action', 'route', 'outcome', 'hash', 'prevHash'],
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string', format: 'date-time' },
    actor: {
      type: 'object',
      description: 'kind (token, agent, site-agent, certificate, anonymous) and identity',
    },
    address: { type: ['string', 'null'] },
    action: { type: 'string' },
    route: { type: 'string' },
    target: { type: ['string', 'null'] },
    vault: { type: ['string', 'null'] },
    before: {},
    after: {},
    outcome: { type: 'string', enum: ['succeeded', 'refused', 'failed'] },
    errorCode: { type: ['string', 'null'] },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
};

export function auditEntryJson(e: AuditEntry) {
  const { at, ...rest } = e;
  return { time: new Date(at).toISOString(), ...rest };
}

function whole(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new BadInputError('BAD_FIELD', `${name}: a whole number`);
  return Number(text);
}

function sinceOf(query: URLSearchParams): number | undefined {
  const text = query.get('since');
  if (text === null) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new BadInputError('BAD_FIELD', 'since: an ISO 8601 time');
  return ms;
}

async function scopeVault(ctx: RequestContext, asked: string | null): Promise<string | undefined> {
  const scope = ctx.token?.vaultId ?? null;
  if (scope === null) return asked ?? undefined;
  const own = (await ctx.services.catalog.getVault(scope)).name;
  if (asked !== null && asked !== own)
    throw forbidden(`this token may read the audit log of vault ${own} only`);
  return own;
}

async function listRoute(ctx: RequestContext): Promise<RouteResult> {
  const { query } = ctx;
  const limit = Math.min(whole(query, 'limit') ?? DEFAULT_PAGE, MAX_PAGE);
  const options: AuditListOptions = { afterSeq: whole(query, 'after') ?? 0, limit: Math.max(limit, 1) };
  const since = sinceOf(query);
  if (since !== undefined) options.since = since;
  const vault = await scopeVault(ctx, query.get('vault'));
  if (vault !== undefined) options.vault = vault;
  const entries = await ctx.services.catalog.listAudit(options);
  const next = entries.length === options.limit ? entries[entries.length - 1]!.seq : null;
  return { body: { entries: entries.map(auditEntryJson), next } };
}

async function verifyRoute(ctx: RequestContext): Promise<RouteResult> {
  if (ctx.token?.vaultId) throw forbidden('verifying the audit log needs a token not limited to one vault');
  return { body: await verifyAuditLog(ctx.services.catalog) };
}

export const AUDIT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/audit',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary:
      'Audit log entries, oldest first (?vault=, ?since=ISO time, ?after=seq, ?limit=); next: the after of the next page',
    tag: 'audit',
    response: {
      status: 200,
      schema: {
        type: 'object',
        properties: { entries: { type: 'array', items: ENTRY_SCHEMA }, next: { type: ['integer', 'null'] } },
      },
    },
    handler: listRoute,
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary: "Check the audit log's hash chain: the first broken entry, if any",
    tag: 'audit',
    response: {
      status: 200,
      schema: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          checked: { type: 'integer' },
          anchorSeq: { type: 'integer' },
          headSeq: { type: 'integer' },
          broken: { type: ['object', 'null'] },
        },
      },
    },
    handler: verifyRoute,
  },
];

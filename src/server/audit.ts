import type { IncomingMessage } from 'node:http';
import { isOffsiteError } from '../errors/index.ts';
import type { AuditOutcome, JsonObject, JsonValue, TokenRow } from '../vault/catalog/index.ts';
import { peerCertificate } from './agent-auth.ts';
import {
  type AuditInput,
  type AuditRule,
  type AuditTarget,
  auditRuleOf,
  isExemption,
} from './audit-routes-map.ts';
import { scrubbed } from './audit-scrub.ts';
import { authenticatePerson } from './console-routes.ts';
import type { RequestContext, Route, RouteResult, Services } from './types.ts';

// The audit hook around a route's handler (server.ts `answer`): every change through the
// API, and every attempt refused, becomes one entry in the catalog's hash-chained log
// (audit-routes-map.ts says which routes and how). The entry is appended before the
// answer is sent, so a caller that saw its answer finds the entry. An entry that cannot
// be appended is logged as an error and does not undo or fail the change.

/** Hands the handler's context to the hook (which loads "before" then) and returns it. */
export type Seen = (ctx: RequestContext) => Promise<RequestContext>;

const SAFE_METHODS = new Set(['GET', 'HEAD']);
/** Refusals: the caller's request was wrong or not allowed; the rest means the service broke. */
const REFUSAL_KINDS = new Set(['bad-input', 'auth', 'not-found', 'conflict', 'quota']);
/** Transient by kind (retry later), but the service said no to this caller. */
const RATE_LIMITS = new Set(['RATE_LIMITED', 'PROBE_RATE_LIMITED']);

function actorOfToken(token: TokenRow, userName: string | null): JsonObject {
  return {
    kind: 'token',
    tokenId: token.id,
    tokenName: token.name,
    role: token.role,
    ...(token.userId ? { userId: token.userId, user: userName } : {}),
  };
}

async function tokenActor(services: Services, token: TokenRow): Promise<JsonObject> {
  const user = token.userId ? await services.catalog.getUser(token.userId).catch(() => null) : null;
  return actorOfToken(token, user?.name ?? null);
}

/** Who a request came from, as far as it got: never a secret, only identities. */
async function actorOf(services: Services, route: Route, req: IncomingMessage, ctx?: RequestContext) {
  if (ctx?.token) return tokenActor(services, ctx.token);
  if (ctx?.agent) {
    const { server, vault } = ctx.agent;
    return { kind: 'agent', serverId: server.id, server: server.name, vault: vault.name };
  }
  if (route.auth === 'token') {
    // Refused before the handler (e.g. the role was too low): who tried, if anyone.
    const token = await authenticatePerson(req, services.catalog, services.ca, services.now()).catch(
      () => null,
    );
    if (token) return tokenActor(services, token);
  }
  const peer = ctx?.peer ?? peerCertificate(req);
  if (peer) {
    const { catalog } = services;
    const site = await catalog.findSiteAgentByFingerprint(peer.fingerprint256).catch(() => undefined);
    if (site) return { kind: 'site-agent', siteAgentId: site.id, siteId: site.siteId };
    const server = await catalog.findServerByFingerprint(peer.fingerprint256).catch(() => undefined);
    if (server) return { kind: 'agent', serverId: server.id, server: server.name };
    return { kind: 'certificate', fingerprint: peer.fingerprint256 };
  }
  const name = (ctx?.body as Record<string, unknown> | undefined)?.name;
  return typeof name === 'string' ? { kind: 'anonymous', name: name.slice(0, 200) } : { kind: 'anonymous' };
}

function outcomeOf(err: unknown): { outcome: AuditOutcome; errorCode: string } {
  if (!isOffsiteError(err)) return { outcome: 'failed', errorCode: 'INTERNAL' };
  const refused = REFUSAL_KINDS.has(err.kind) || RATE_LIMITS.has(err.code);
  return { outcome: refused ? 'refused' : 'failed', errorCode: err.code };
}

/** The vault an answer names, for entries whose request did not (registration). */
function vaultOfAnswer(body: unknown): string | null {
  const vault = (body as Record<string, unknown> | null)?.vault;
  if (typeof vault === 'string') return vault;
  const name = (vault as Record<string, unknown> | null)?.name;
  return typeof name === 'string' ? name : null;
}

async function safely<T>(services: Services, what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const detail = isOffsiteError(err) ? err.code : String(err);
    services.log({
      time: new Date().toISOString(),
      msg: `audit: ${what} failed`,
      level: 'error',
      error: detail,
    });
    return fallback;
  }
}

class Recording {
  ctx: RequestContext | undefined;
  target: AuditTarget = { target: null, vault: null };
  before: JsonValue | null = null;
  readonly services: Services;
  readonly rule: AuditRule;
  readonly params: Readonly<Record<string, string>>;

  constructor(services: Services, rule: AuditRule, params: Readonly<Record<string, string>>) {
    this.services = services;
    this.rule = rule;
    this.params = params;
  }

  input(): AuditInput {
    return { params: this.params, body: this.ctx?.body, agent: this.ctx?.agent, services: this.services };
  }

  async describe(): Promise<void> {
    this.target = await safely(
      this.services,
      'target',
      async () => this.rule.target(this.input()),
      this.target,
    );
  }

  async load(phase: 'before' | 'after'): Promise<JsonValue | null> {
    const { load } = this.rule;
    if (!load) return null;
    return safely(this.services, 'state', async () => scrubbed(await load(this.input(), phase)), null);
  }
}

async function append(
  rec: Recording,
  route: Route,
  req: IncomingMessage,
  result: { after: JsonValue | null; outcome: AuditOutcome; errorCode: string | null },
): Promise<void> {
  const { services } = rec;
  if (!rec.ctx) await rec.describe();
  const actor = await safely(services, 'actor', () => actorOf(services, route, req, rec.ctx), {
    kind: 'unknown',
  });
  await safely(
    services,
    'append',
    () =>
      services.catalog.appendAudit({
        at: services.now(),
        actor,
        address: req.socket.remoteAddress ?? null,
        action: rec.rule.action,
        route: `${route.method} ${route.path}`,
        target: rec.target.target,
        vault: rec.target.vault,
        before: rec.before,
        ...result,
      }),
    undefined,
  );
}

/**
 * Runs the request (`run` authenticates, reads the body and calls the handler, passing
 * its context through `seen`) and records it when its route is audited.
 */
export async function audited(
  services: Services,
  route: Route,
  req: IncomingMessage,
  params: Readonly<Record<string, string>>,
  run: (seen: Seen) => Promise<RouteResult>,
): Promise<RouteResult> {
  const found = SAFE_METHODS.has(route.method) ? undefined : auditRuleOf(route.method, route.path);
  if (SAFE_METHODS.has(route.method) || (found && isExemption(found))) return run(async (ctx) => ctx);
  // A route missing from the map (test/audit-routes.test.ts forbids it) is still recorded.
  const rule: AuditRule = found ?? {
    action: `${route.method} ${route.path}`,
    target: () => ({ target: null, vault: null }),
  };
  const rec = new Recording(services, rule, params);
  const seen: Seen = async (ctx) => {
    rec.ctx = ctx;
    await rec.describe();
    rec.before = await rec.load('before');
    return ctx;
  };
  let answer: RouteResult;
  try {
    answer = await run(seen);
  } catch (err) {
    await append(rec, route, req, { after: null, ...outcomeOf(err) });
    throw err;
  }
  const after = rule.afterIsAnswer ? scrubbed(answer.body) : await rec.load('after');
  if (rec.target.vault === null) rec.target.vault = vaultOfAnswer(answer.body);
  await append(rec, route, req, { after, outcome: 'succeeded', errorCode: null });
  return answer;
}

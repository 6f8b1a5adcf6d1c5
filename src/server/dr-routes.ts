import { BadInputError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import type { SiteRow } from '../vault/catalog/index.ts';
import {
  applyWorkloadDocument,
  assignments,
  authenticateSiteAgent,
  type CommandKind,
  checkHeartbeat,
  commandJson,
  createSite,
  drStatus,
  finishSiteCommand,
  issueSiteCredentials,
  pollCommands,
  QUEUE_ROLE,
  queueSiteCommand,
  recordHeartbeat,
  registerSiteAgent,
  renewSiteAgentCertificate,
  siteJson,
} from '../vault/dr/index.ts';
import { visibleVault } from '../vault/ops/index.ts';
import { requireRole } from './auth.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// Disaster recovery's control plane: sites and their credentials files (people, by API
// token), site agents (by the client certificate the vault issued them at registration;
// a vault agent's certificate opens none of these, nor a site agent's any vault agent
// route), workloads and the status of everything. Logic in src/vault/dr.

const KIB = 1024;

const SITE_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    vault: { type: 'string' },
    state: { enum: ['up', 'down', 'never-heard'] },
    createdAt: { type: 'string', format: 'date-time' },
    lastHeartbeatAt: { type: ['string', 'null'], format: 'date-time' },
    downSince: { type: ['string', 'null'], format: 'date-time' },
  },
};

const OBJECT: Schema = { type: 'object' };

function scopeOf(ctx: RequestContext): string | null {
  return ctx.token?.vaultId ?? null;
}

/** The live site by name as the caller may see it: another vault's is "not found" to a scoped token. */
async function visibleSite(ctx: RequestContext): Promise<SiteRow> {
  const site = await ctx.services.catalog.getSiteByName(ctx.params.name!);
  const scope = scopeOf(ctx);
  if (scope !== null && scope !== site.vaultId) {
    throw new NotFoundError('SITE_NOT_FOUND', `no site named "${site.name}"`);
  }
  return site;
}

async function vaultName(ctx: RequestContext, vaultId: string): Promise<string> {
  return (await ctx.services.catalog.getVault(vaultId)).name;
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', `send a JSON object ${shape}`);
  }
  return body as Record<string, unknown>;
}

async function postSite(ctx: RequestContext): Promise<RouteResult> {
  const input = objectBody(ctx.body, '{name, vault}');
  if (typeof input.vault !== 'string')
    throw new BadInputError('BAD_FIELD', 'vault: the name of the vault the site belongs to');
  const { catalog, now } = ctx.services;
  const vault = await visibleVault(catalog, input.vault, scopeOf(ctx));
  const site = await createSite(catalog, vault, input.name, now());
  return { status: 201, body: siteJson(site, vault.name) };
}

async function listSites(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const scope = scopeOf(ctx);
  const sites = await catalog.listSites(scope === null ? {} : { vaultId: scope });
  const vaults = new Map((await catalog.listVaults()).map((v) => [v.id, v.name]));
  return { body: { sites: sites.map((s) => siteJson(s, vaults.get(s.vaultId) ?? s.vaultId)) } };
}

async function getSite(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  return { body: siteJson(site, await vaultName(ctx, site.vaultId)) };
}

async function deleteSite(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  const deleted = await ctx.services.catalog.deleteSite(site.id, ctx.services.now());
  return { body: siteJson(deleted, await vaultName(ctx, site.vaultId)) };
}

async function postCredentials(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  const { services } = ctx;
  const file = await issueSiteCredentials(services.catalog, site, {
    serverUrl: services.publicUrl,
    caPem: services.ca.certPem,
    now: services.now(),
  });
  return { status: 201, body: file };
}

async function postCommand(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  requireQueueRole(ctx, (ctx.body as { kind?: unknown } | undefined)?.kind);
  const command = await queueSiteCommand(ctx.services.catalog, site, ctx.body, ctx.services.now());
  return { status: 201, body: commandJson(command, site.name) };
}

function requireQueueRole(ctx: RequestContext, kind: unknown): void {
  if (typeof kind !== 'string' || !(kind in QUEUE_ROLE)) return; // the queue names the kinds
  const role = QUEUE_ROLE[kind as CommandKind];
  if (role === undefined) {
    throw forbidden(
      `a ${kind} command runs only as an action of a recovery plan`,
      'put it in a plan (offsite dr plan apply)',
    );
  }
  requireRole(ctx.token!, role);
}

async function listCommands(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  const commands = await ctx.services.catalog.listCommands(site.id);
  return { body: { commands: commands.map((c) => commandJson(c, site.name)) } };
}

async function getCommand(ctx: RequestContext): Promise<RouteResult> {
  const site = await visibleSite(ctx);
  const command = await ctx.services.catalog.getCommand(ctx.params.id!).catch((err: unknown) => {
    if (isOffsiteError(err) && err.kind === 'not-found') return undefined;
    throw err;
  });
  // Another site's command is "not found" here too: the path names the site.
  if (command?.siteId !== site.id)
    throw new NotFoundError('COMMAND_NOT_FOUND', `no command ${ctx.params.id} at this site`);
  return { body: commandJson(command, site.name) };
}

async function putWorkloads(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const applied = await applyWorkloadDocument(catalog, ctx.body, scopeOf(ctx), now());
  return {
    body: {
      workloads: applied.map(({ workload, change }) => ({
        name: workload.name,
        version: workload.version,
        change,
      })),
    },
  };
}

async function getStatus(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  return { body: await drStatus(catalog, scopeOf(ctx), now()) };
}

// ---- site agent routes

async function postRegister(ctx: RequestContext): Promise<RouteResult> {
  const input = objectBody(ctx.body, '{secret, publicKey}');
  const { services } = ctx;
  const now = services.now();
  const keys = [`register-ip:${ctx.request.socket.remoteAddress}`];
  const { site, vault, certPem } = await services.limits.guard(keys, now, () =>
    registerSiteAgent(
      services.catalog,
      services.ca,
      { secret: input.secret, publicKey: input.publicKey },
      now,
    ),
  );
  return {
    status: 201,
    body: {
      site: siteJson(site, vault.name),
      certificate: certPem,
      workloads: await assignments(services.catalog, site),
    },
  };
}

/** The calling site agent's site, by its connection's client certificate. */
async function callingSite(ctx: RequestContext): Promise<SiteRow> {
  return (await authenticateSiteAgent(ctx.services.catalog, ctx.peer!.fingerprint256)).site;
}

async function postHeartbeat(ctx: RequestContext): Promise<RouteResult> {
  const site = await callingSite(ctx);
  const input = checkHeartbeat(ctx.body);
  const { catalog, now } = ctx.services;
  const { site: updated, workloads, watch } = await recordHeartbeat(catalog, site, input, now());
  return { body: { site: siteJson(updated, await vaultName(ctx, site.vaultId)), workloads, watch } };
}

async function postRenew(ctx: RequestContext): Promise<RouteResult> {
  const site = await callingSite(ctx);
  const input = objectBody(ctx.body, '{publicKey}');
  const { catalog, ca, now } = ctx.services;
  const certPem = await renewSiteAgentCertificate(catalog, ca, site, input.publicKey, now());
  return { body: { certificate: certPem } };
}

async function getAgentCommands(ctx: RequestContext): Promise<RouteResult> {
  const site = await callingSite(ctx);
  const commands = await pollCommands(ctx.services.catalog, site, ctx.services.now());
  return { body: { commands: commands.map((c) => commandJson(c, site.name)) } };
}

async function postCommandResult(ctx: RequestContext): Promise<RouteResult> {
  const site = await callingSite(ctx);
  const command = await finishSiteCommand(
    ctx.services.catalog,
    site,
    ctx.params.id!,
    ctx.body,
    ctx.services.now(),
  );
  return { body: commandJson(command, site.name) };
}

const siteRoute = (r: Omit<Route, 'tag'>): Route => ({ ...r, tag: 'disaster recovery' });

export const DR_ROUTES: readonly Route[] = [
  siteRoute({
    method: 'POST',
    path: '/v1/sites',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 4 * KIB,
    summary: 'Create a site (a data centre) in a vault',
    requestBody: {
      type: 'object',
      required: ['name', 'vault'],
      properties: { name: { type: 'string' }, vault: { type: 'string' } },
    },
    response: { status: 201, schema: SITE_SCHEMA },
    handler: postSite,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/sites',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List the sites',
    response: {
      status: 200,
      schema: { type: 'object', properties: { sites: { type: 'array', items: SITE_SCHEMA } } },
    },
    handler: listSites,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/sites/:name',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Show a site',
    response: { status: 200, schema: SITE_SCHEMA },
    handler: getSite,
  }),
  siteRoute({
    method: 'DELETE',
    path: '/v1/sites/:name',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Delete a site no workload uses; its site agent is refused from then on',
    response: { status: 200, schema: SITE_SCHEMA },
    handler: deleteSite,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/sites/:name/credentials',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Issue a site credentials file (48 h, single use); earlier files stop working',
    response: { status: 201, schema: OBJECT },
    handler: postCredentials,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/sites/:name/commands',
    auth: 'token',
    minRole: 'operator',
    bodyLimit: 16 * KIB,
    summary: "Queue a command for the site's agent (noop, probe)",
    requestBody: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { enum: ['noop', 'probe'] }, payload: { type: 'object' } },
    },
    response: { status: 201, schema: OBJECT },
    handler: postCommand,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/sites/:name/commands',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: "The site's latest commands, newest first",
    response: { status: 200, schema: OBJECT },
    handler: listCommands,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/sites/:name/commands/:id',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'One command of the site, with its result',
    response: { status: 200, schema: OBJECT },
    handler: getCommand,
  }),
  siteRoute({
    method: 'PUT',
    path: '/v1/dr/workloads',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 1024 * KIB,
    summary:
      'Apply a workload file (its YAML as JSON): all workloads checked, then created or updated at once',
    requestBody: { type: 'object', required: ['workloads'], properties: { workloads: { type: 'array' } } },
    response: { status: 200, schema: OBJECT },
    handler: putWorkloads,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/dr/status',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary:
      'Sites (up, down) and workloads: replication health, last recovery point, current RPO, fencing epoch',
    response: { status: 200, schema: OBJECT },
    handler: getStatus,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/site-agent/register',
    auth: 'public',
    bodyLimit: 16 * KIB,
    summary: 'Register a site agent with a site credentials file: the vault certifies its public key',
    requestBody: {
      type: 'object',
      required: ['secret', 'publicKey'],
      properties: { secret: { type: 'string' }, publicKey: { type: 'string' } },
    },
    response: { status: 201, schema: OBJECT },
    handler: postRegister,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/site-agent/heartbeat',
    auth: 'client-cert',
    bodyLimit: 256 * KIB,
    summary: "A site agent's heartbeat with inventory and replication health; answers the site's workloads",
    requestBody: {
      type: 'object',
      required: ['inventory'],
      properties: { inventory: { type: 'object' }, replication: { type: 'array' } },
    },
    response: { status: 200, schema: OBJECT },
    handler: postHeartbeat,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/site-agent/renew',
    auth: 'client-cert',
    bodyLimit: 16 * KIB,
    summary: "Renew the calling site agent's certificate for a (new) public key; the old one stops working",
    requestBody: { type: 'object', required: ['publicKey'], properties: { publicKey: { type: 'string' } } },
    response: { status: 200, schema: OBJECT },
    handler: postRenew,
  }),
  siteRoute({
    method: 'GET',
    path: '/v1/site-agent/commands',
    auth: 'client-cert',
    bodyLimit: 0,
    summary: "The calling site agent's due commands (now marked sent)",
    response: { status: 200, schema: OBJECT },
    handler: getAgentCommands,
  }),
  siteRoute({
    method: 'POST',
    path: '/v1/site-agent/commands/:id/result',
    auth: 'client-cert',
    bodyLimit: 96 * KIB,
    summary: "Report a command's outcome: succeeded or failed, with its step results",
    requestBody: {
      type: 'object',
      required: ['state', 'result'],
      properties: { state: { enum: ['succeeded', 'failed'] }, result: { type: 'object' } },
    },
    response: { status: 200, schema: OBJECT },
    handler: postCommandResult,
  }),
];

import type { VaultRow } from '../vault/catalog/index.ts';
import {
  addWebhook,
  alertJson,
  alertOfVault,
  deliveryJson,
  jobJson,
  jobOfVault,
  listVaultJobs,
  parseJobQuery,
  parseJobReport,
  parseJobStart,
  parseWebhook,
  reportJob,
  serverNames,
  startJob,
  visibleVault,
  webhookJson,
  webhookOfVault,
  webhookSecretKey,
} from '../vault/ops/index.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// Operations: jobs agents report (agent routes, by client certificate), and per vault the
// admin views of jobs, alerts and webhooks. A token scoped to another vault gets 404.

const KIB = 1024;
const TIME: Schema = { type: 'string', format: 'date-time' };
const OPT_TIME: Schema = { type: ['string', 'null'], format: 'date-time' };
const JOB_STATUS: Schema = { type: 'string', enum: ['running', 'succeeded', 'failed', 'warning'] };
const SKIPPED_FILE: Schema = {
  type: 'object',
  required: ['path', 'error'],
  properties: { path: { type: 'string', maxLength: 1024 }, error: { type: 'string', maxLength: 256 } },
};

const JOB_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'kind', 'status', 'server', 'startedAt', 'endedAt', 'bytes', 'error', 'skippedCount'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    status: JOB_STATUS,
    server: { type: ['string', 'null'] },
    startedAt: TIME,
    endedAt: OPT_TIME,
    durationMs: { type: ['integer', 'null'] },
    bytes: { type: 'integer' },
    error: { type: ['string', 'null'] },
    skippedCount: { type: 'integer', description: 'files skipped in all' },
  },
};

const JOB_DETAIL_SCHEMA: Schema = {
  ...JOB_SCHEMA,
  properties: {
    ...(JOB_SCHEMA.properties as Record<string, Schema>),
    skippedFiles: { type: 'array', items: SKIPPED_FILE, maxItems: 1000 },
    skippedFilesOmitted: { type: 'integer', description: 'skipped files beyond the list kept' },
  },
};

const ALERT_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', description: 'backup-failed, quota, certificate-expiry, ...' },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    state: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
    message: { type: 'string' },
    server: { type: ['string', 'null'] },
    raisedAt: TIME,
    lastRaisedAt: TIME,
    occurrences: { type: 'integer' },
    acknowledgedAt: OPT_TIME,
    resolvedAt: OPT_TIME,
  },
};

const WEBHOOK_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'url', 'signed', 'createdAt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    signed: {
      type: 'boolean',
      description: 'deliveries carry X-Offsite-Signature (the secret is never shown)',
    },
    createdAt: TIME,
  },
};

const DELIVERY_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'also sent as X-Offsite-Delivery' },
    alert: { type: 'object' },
    state: { type: 'string', enum: ['pending', 'delivered', 'abandoned'] },
    attempts: { type: 'integer' },
    createdAt: TIME,
    nextAttemptAt: OPT_TIME,
    finishedAt: OPT_TIME,
    lastStatus: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
  },
};

function listOf(key: string, items: Schema): Schema {
  return { type: 'object', required: [key], properties: { [key]: { type: 'array', items } } };
}

function vaultOf(ctx: RequestContext): Promise<VaultRow> {
  return visibleVault(ctx.services.catalog, ctx.params.name!, ctx.token?.vaultId ?? null);
}

async function agentStartJob(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const job = await startJob(catalog, ctx.agent!, parseJobStart(ctx.body, now()));
  return { status: 201, body: jobJson(job, new Map([[ctx.agent!.server.id, ctx.agent!.server.name]]), true) };
}

async function agentReportJob(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const job = await reportJob(catalog, ctx.agent!, ctx.params.id!, parseJobReport(ctx.body, now()), now());
  return { body: jobJson(job, new Map([[ctx.agent!.server.id, ctx.agent!.server.name]]), true) };
}

async function listJobs(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const jobs = await listVaultJobs(ctx.services.catalog, vault, parseJobQuery(ctx.query));
  const names = await serverNames(ctx.services.catalog, vault.id);
  return { body: { jobs: jobs.map((j) => jobJson(j, names)) } };
}

async function showJob(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const job = await jobOfVault(ctx.services.catalog, vault.id, ctx.params.id!);
  return { body: jobJson(job, await serverNames(ctx.services.catalog, vault.id), true) };
}

async function listAlerts(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const all = ctx.query.get('all');
  const alerts = await ctx.services.catalog.listAlerts(vault.id, { openOnly: all !== '1' && all !== 'true' });
  const names = await serverNames(ctx.services.catalog, vault.id);
  return { body: { alerts: alerts.map((a) => alertJson(a, names)) } };
}

async function acknowledge(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const { catalog, now } = ctx.services;
  const alert = await alertOfVault(catalog, vault.id, ctx.params.id!);
  const acked = await catalog.acknowledgeAlert(alert.id, now());
  return { body: alertJson(acked, await serverNames(catalog, vault.id)) };
}

async function createWebhook(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const { catalog, now, ca } = ctx.services;
  const hook = await addWebhook(catalog, vault, parseWebhook(ctx.body), webhookSecretKey(ca.keyPem), now());
  return { status: 201, body: webhookJson(hook) };
}

async function listWebhooks(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  return { body: { webhooks: (await ctx.services.catalog.listWebhooks(vault.id)).map(webhookJson) } };
}

async function deleteWebhook(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const { catalog, now } = ctx.services;
  const hook = await webhookOfVault(catalog, vault.id, ctx.params.id!);
  return { body: webhookJson(await catalog.deleteWebhook(hook.id, now())) };
}

async function listDeliveries(ctx: RequestContext): Promise<RouteResult> {
  const vault = await vaultOf(ctx);
  const hook = await webhookOfVault(ctx.services.catalog, vault.id, ctx.params.id!);
  const deliveries = await ctx.services.catalog.listWebhookDeliveries(hook.id, { limit: 100 });
  return { body: { deliveries: deliveries.map(deliveryJson) } };
}

const AGENT_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/agent/jobs',
    auth: 'agent',
    bodyLimit: 4 * KIB,
    summary: 'An agent starts a job (backup, restore, compact, verify, ...)',
    tag: 'jobs',
    requestBody: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        id: {
          type: 'string',
          format: 'uuid',
          description: 'Chosen by the agent: a start sent twice is one job',
        },
        kind: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
        startedAt: TIME,
      },
    },
    response: { status: 201, schema: JOB_DETAIL_SCHEMA },
    handler: agentStartJob,
  },
  {
    method: 'PATCH',
    path: '/v1/agent/jobs/:id',
    auth: 'agent',
    bodyLimit: 2048 * KIB,
    summary: 'An agent updates or ends one of its jobs; a failed backup raises an alert',
    tag: 'jobs',
    requestBody: {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: {
        status: JOB_STATUS,
        endedAt: TIME,
        bytes: { type: 'integer', minimum: 0 },
        error: { type: ['string', 'null'], description: 'kept to 2000 characters' },
        skippedFiles: { type: 'array', items: SKIPPED_FILE, description: 'the first 1000 are kept' },
        skippedCount: { type: 'integer', minimum: 0, description: 'all skipped files, when more were found' },
      },
    },
    response: { status: 200, schema: JOB_DETAIL_SCHEMA },
    handler: agentReportJob,
  },
];

function vaultRoute(
  method: Route['method'],
  rest: string,
  minRole: Route['minRole'],
  summary: string,
  tag: string,
  extra: Pick<Route, 'handler'> & Partial<Route>,
): Route {
  return {
    method,
    path: `/v1/vaults/:name${rest}`,
    auth: 'token',
    minRole,
    bodyLimit: 0,
    summary,
    tag,
    ...extra,
  };
}

const VAULT_OPS_ROUTES: readonly Route[] = [
  vaultRoute('GET', '/jobs', 'reader', 'List a vault’s jobs, newest first (?server=NAME&limit=N)', 'jobs', {
    response: { status: 200, schema: listOf('jobs', JOB_SCHEMA) },
    handler: listJobs,
  }),
  vaultRoute('GET', '/jobs/:id', 'reader', 'Show a job with its skipped files', 'jobs', {
    response: { status: 200, schema: JOB_DETAIL_SCHEMA },
    handler: showJob,
  }),
  vaultRoute('GET', '/alerts', 'reader', 'List a vault’s open alerts (?all=1: resolved ones too)', 'alerts', {
    response: { status: 200, schema: listOf('alerts', ALERT_SCHEMA) },
    handler: listAlerts,
  }),
  vaultRoute(
    'POST',
    '/alerts/:id/acknowledge',
    'operator',
    'Acknowledge an alert (it stays open)',
    'alerts',
    {
      response: { status: 200, schema: ALERT_SCHEMA },
      handler: acknowledge,
    },
  ),
  vaultRoute(
    'POST',
    '/webhooks',
    'contributor',
    'Add a webhook: each raised alert is POSTed to it',
    'alerts',
    {
      bodyLimit: 4 * KIB,
      requestBody: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: {
          url: { type: 'string', format: 'uri', description: 'http:// or https://' },
          secret: { type: 'string', minLength: 16, maxLength: 256, writeOnly: true },
        },
      },
      response: { status: 201, schema: WEBHOOK_SCHEMA },
      handler: createWebhook,
    },
  ),
  // Webhook URLs often embed a credential (chat services), so reading them needs the role that manages them.
  vaultRoute('GET', '/webhooks', 'contributor', 'List a vault’s webhooks (never their secrets)', 'alerts', {
    response: { status: 200, schema: listOf('webhooks', WEBHOOK_SCHEMA) },
    handler: listWebhooks,
  }),
  vaultRoute(
    'DELETE',
    '/webhooks/:id',
    'contributor',
    'Delete a webhook; its pending deliveries stop',
    'alerts',
    {
      response: { status: 200, schema: WEBHOOK_SCHEMA },
      handler: deleteWebhook,
    },
  ),
  vaultRoute(
    'GET',
    '/webhooks/:id/deliveries',
    'contributor',
    'The last 100 deliveries of a webhook',
    'alerts',
    {
      response: { status: 200, schema: listOf('deliveries', DELIVERY_SCHEMA) },
      handler: listDeliveries,
    },
  ),
];

export const JOB_ROUTES: readonly Route[] = [...AGENT_ROUTES, ...VAULT_OPS_ROUTES];

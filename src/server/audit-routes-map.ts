import type { Catalog, JsonValue, VaultRow } from '../vault/catalog/index.ts';
import { scrubbed } from './audit-scrub.ts';
import type { AgentIdentity, Services } from './types.ts';

// Which changes the audit log records, per route ('METHOD /path' as in the route table):
// an action with how to name its target and, for settings, how to load the target's state
// before and after; or an exemption with its reason (the data path and progress reports
// are not changes to settings). test/audit-routes.test.ts fails for any route that is not
// GET or HEAD and is in neither list, so a new route cannot be forgotten.

/** What a rule may look at: the request so far (the body is absent before it was read). */
export interface AuditInput {
  params: Readonly<Record<string, string>>;
  body: unknown;
  agent: AgentIdentity | undefined;
  services: Services;
}

export interface AuditTarget {
  target: string | null;
  vault: string | null;
}

export interface AuditRule {
  action: string;
  target: (input: AuditInput) => AuditTarget | Promise<AuditTarget>;
  /** The target's state (no secrets), loaded before the handler and after it succeeded. */
  load?: (input: AuditInput, phase: 'before' | 'after') => Promise<JsonValue | null>;
  /** Record the answer (secrets stripped) as "after": for creations with a new id. */
  afterIsAnswer?: boolean;
}

export interface AuditExemption {
  exempt: string;
}

const field = (body: unknown, name: string): string | null => {
  const value = (body as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' ? value.slice(0, 200) : null;
};

/** 'kind:name', or null when the request did not say (it was refused before its body was read). */
const named = (kind: string, name: string | null | undefined): string | null =>
  name ? `${kind}:${name}` : null;

const orNull = <T>(p: Promise<T>): Promise<T | null> => p.catch(() => null);

// ---- targets

const vaultParam =
  (kind = 'vault', id = 'name') =>
  (i: AuditInput) => ({
    target: kind === 'vault' ? `vault:${i.params.name}` : `${kind}:${i.params[id]}`,
    vault: i.params.name ?? null,
  });

const ofAgent = (i: AuditInput): AuditTarget => ({
  target: i.agent ? `server:${i.agent.server.name}` : null,
  vault: i.agent?.vault.name ?? null,
});

async function siteTarget(i: AuditInput, name: string | null): Promise<AuditTarget> {
  const { catalog } = i.services;
  const site = name ? await orNull(catalog.getSiteByName(name)) : null;
  const vault = site ? await orNull(catalog.getVault(site.vaultId)) : null;
  return { target: name ? `site:${name}` : null, vault: vault?.name ?? field(i.body, 'vault') };
}

const planTarget = (i: AuditInput): AuditTarget => ({ target: `plan:${i.params.name}`, vault: null });
const runTarget = (i: AuditInput): AuditTarget => ({ target: `run:${i.params.id}`, vault: null });

// ---- states

async function vaultByName(catalog: Catalog, name: string | null): Promise<VaultRow | undefined> {
  if (!name) return undefined;
  const all = await catalog.listVaults({ includeDeleted: true });
  return all.filter((v) => v.name === name).sort((a, b) => b.createdAt - a.createdAt)[0];
}

async function vaultState(i: AuditInput, name: string | null): Promise<JsonValue | null> {
  const v = await vaultByName(i.services.catalog, name);
  if (!v) return null;
  return scrubbed({
    id: v.id,
    name: v.name,
    region: v.region,
    secondaryRegion: v.secondaryRegion,
    quotaBytes: v.quotaBytes,
    softDeleteDays: v.softDeleteDays,
    immutable: v.immutable,
    policy: v.policy,
    deletedAt: v.deletedAt,
  });
}

const vaultOfParam = (i: AuditInput) => vaultState(i, i.params.name ?? null);

async function userState(i: AuditInput, name: string | null, phase: 'before' | 'after') {
  const user = name ? await i.services.catalog.findUserByName(name) : undefined;
  if (!user) return null;
  const changedPassword = phase === 'after' && field(i.body, 'password') !== null;
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    ...(changedPassword ? { passwordChanged: true } : {}),
  };
}

async function tokenState(i: AuditInput): Promise<JsonValue | null> {
  const token = (await i.services.catalog.listTokens()).find((t) => t.id === i.params.id);
  return token ? scrubbed(token) : null;
}

async function siteState(i: AuditInput): Promise<JsonValue | null> {
  const site = await orNull(i.services.catalog.getSiteByName(i.params.name ?? ''));
  return site ? scrubbed(site) : null;
}

// ---- the map

const EXEMPT_DATA: AuditExemption = { exempt: "an agent's backup data, not a setting" };
const EXEMPT_PROGRESS: AuditExemption = { exempt: 'a progress report, not a change' };

export const AUDITED_ROUTES: Readonly<Record<string, AuditRule | AuditExemption>> = {
  'POST /v1/vaults': {
    action: 'vault.create',
    target: (i) => ({ target: named('vault', field(i.body, 'name')), vault: field(i.body, 'name') }),
    load: (i) => vaultState(i, field(i.body, 'name')),
  },
  'PATCH /v1/vaults/:name': { action: 'vault.update', target: vaultParam(), load: vaultOfParam },
  'DELETE /v1/vaults/:name': { action: 'vault.delete', target: vaultParam(), load: vaultOfParam },
  'PUT /v1/vaults/:name/policy': { action: 'vault.policy', target: vaultParam(), load: vaultOfParam },
  'POST /v1/vaults/:name/lock': { action: 'vault.lock', target: vaultParam(), load: vaultOfParam },
  'POST /v1/vaults/:name/promote-secondary': {
    action: 'vault.promote-secondary',
    target: vaultParam(),
    load: vaultOfParam,
  },
  'POST /v1/vaults/:name/credentials': {
    action: 'credentials.issue',
    target: vaultParam(),
    afterIsAnswer: true,
  },
  'POST /v1/vaults/:name/certificates': {
    action: 'certificate.upload',
    target: vaultParam(),
    afterIsAnswer: true,
  },
  'POST /v1/vaults/:name/certificates/:id/revoke': {
    action: 'certificate.revoke',
    target: vaultParam('certificate', 'id'),
    afterIsAnswer: true,
  },
  'POST /v1/register': {
    action: 'server.register',
    target: (i) => ({ target: named('server', field(i.body, 'name')), vault: null }),
    afterIsAnswer: true,
  },
  'POST /v1/agent/register': {
    action: 'server.register-certificate',
    target: (i) => ({ target: named('server', field(i.body, 'name')), vault: field(i.body, 'vault') }),
    afterIsAnswer: true,
  },
  'POST /v1/agent/renew': { action: 'server.renew-certificate', target: ofAgent },
  'DELETE /v1/agent/repo/keys/:id': {
    action: 'key.retire',
    target: (i) => ({ ...ofAgent(i), target: `key:${i.params.id}` }),
  },
  'POST /v1/vaults/:name/servers/:server/retired-keys/:id/restore': {
    action: 'key.restore',
    target: (i) => ({ target: `server:${i.params.server}/key:${i.params.id}`, vault: i.params.name ?? null }),
    afterIsAnswer: true,
  },
  'POST /v1/vaults/:name/points/:id/undelete': {
    action: 'point.undelete',
    target: vaultParam('point', 'id'),
    load: async (i) => {
      const p = await orNull(i.services.catalog.getPoint(i.params.id ?? ''));
      return p && { id: p.id, softDeletedAt: p.softDeletedAt, deletedAt: p.deletedAt };
    },
  },
  'POST /v1/vaults/:name/alerts/:id/acknowledge': {
    action: 'alert.acknowledge',
    target: vaultParam('alert', 'id'),
    load: async (i) => {
      const a = await orNull(i.services.catalog.getAlert(i.params.id ?? ''));
      return a && { id: a.id, kind: a.kind, acknowledgedAt: a.acknowledgedAt, resolvedAt: a.resolvedAt };
    },
  },
  'POST /v1/vaults/:name/webhooks': { action: 'webhook.create', target: vaultParam(), afterIsAnswer: true },
  'DELETE /v1/vaults/:name/webhooks/:id': {
    action: 'webhook.delete',
    target: vaultParam('webhook', 'id'),
    load: async (i) => scrubbed(await orNull(i.services.catalog.getWebhook(i.params.id ?? ''))),
  },
  'POST /v1/users': {
    action: 'user.create',
    target: (i) => ({ target: named('user', field(i.body, 'name')), vault: null }),
    load: (i, phase) => userState(i, field(i.body, 'name'), phase),
  },
  'PATCH /v1/users/:name': {
    action: 'user.update',
    target: (i) => ({ target: `user:${i.params.name}`, vault: null }),
    load: (i, phase) => userState(i, i.params.name ?? null, phase),
  },
  'POST /v1/login': {
    action: 'session.login',
    target: (i) => ({ target: named('user', field(i.body, 'name')), vault: null }),
  },
  'POST /v1/console/session': {
    action: 'session.console-login',
    target: (i) => ({
      target: field(i.body, 'name') ? named('user', field(i.body, 'name')) : 'login-link',
      vault: null,
    }),
  },
  'DELETE /v1/console/session': { action: 'session.logout', target: () => ({ target: null, vault: null }) },
  'POST /v1/login/link': {
    action: 'session.login-link',
    target: () => ({ target: 'login-link', vault: null }),
  },
  'POST /v1/tokens': {
    action: 'token.create',
    target: (i) => ({ target: named('token', field(i.body, 'name')), vault: field(i.body, 'vault') }),
    afterIsAnswer: true,
  },
  'DELETE /v1/tokens/:id': {
    action: 'token.revoke',
    target: (i) => ({ target: `token:${i.params.id}`, vault: null }),
    load: tokenState,
  },
  'POST /v1/admin/rebuild-catalog': {
    action: 'catalog.rebuild',
    target: () => ({ target: 'catalog', vault: null }),
    afterIsAnswer: true,
  },
  'POST /v1/sites': {
    action: 'site.create',
    target: (i) => siteTarget(i, field(i.body, 'name')),
    afterIsAnswer: true,
  },
  'DELETE /v1/sites/:name': {
    action: 'site.delete',
    target: (i) => siteTarget(i, i.params.name ?? null),
    load: siteState,
  },
  'POST /v1/sites/:name/credentials': {
    action: 'site.credentials-issue',
    target: (i) => siteTarget(i, i.params.name ?? null),
    afterIsAnswer: true,
  },
  'POST /v1/sites/:name/commands': {
    action: 'site.command',
    target: (i) => siteTarget(i, i.params.name ?? null),
    afterIsAnswer: true,
  },
  'PUT /v1/dr/workloads': {
    action: 'dr.workloads-apply',
    target: () => ({ target: 'workloads', vault: null }),
    afterIsAnswer: true,
  },
  'POST /v1/site-agent/register': {
    action: 'site-agent.register',
    target: () => ({ target: null, vault: null }),
    afterIsAnswer: true,
  },
  // Recovery plans and failover (issue 11's failover work): each step an owner takes.
  'PUT /v1/dr/plans': {
    action: 'dr.plans-apply',
    target: () => ({ target: 'plans', vault: null }),
    afterIsAnswer: true,
  },
  'POST /v1/dr/plans/:name/failover': { action: 'dr.failover', target: planTarget, afterIsAnswer: true },
  'POST /v1/dr/plans/:name/failback': { action: 'dr.failback', target: planTarget, afterIsAnswer: true },
  'POST /v1/dr/reprotect': {
    action: 'dr.reprotect',
    target: (i) => ({
      target: named('plan', field(i.body, 'plan') ?? field(i.body, 'workload')),
      vault: null,
    }),
    afterIsAnswer: true,
  },
  'POST /v1/dr/runs/:id/confirm': { action: 'dr.run-confirm', target: runTarget, afterIsAnswer: true },
  'POST /v1/dr/runs/:id/commit': { action: 'dr.run-commit', target: runTarget, afterIsAnswer: true },
  'POST /v1/dr/runs/:id/cleanup': { action: 'dr.run-cleanup', target: runTarget, afterIsAnswer: true },
  'POST /v1/site-agent/renew': { action: 'site-agent.renew', target: () => ({ target: null, vault: null }) },

  'POST /v1/agent/points': { exempt: 'a backup committing its recovery point: data, not a setting' },
  'PUT /v1/agent/repo/objects/:name*': EXEMPT_DATA,
  'DELETE /v1/agent/repo/objects/:name*': EXEMPT_DATA,
  'POST /v1/agent/repo/uploads': EXEMPT_DATA,
  'POST /v1/agent/repo/uploads/complete': EXEMPT_DATA,
  'PUT /v1/agent/servers/:server/repo/objects/:name*': { exempt: 'always refused: read-only data path' },
  'DELETE /v1/agent/servers/:server/repo/objects/:name*': { exempt: 'always refused: read-only data path' },
  'POST /v1/agent/jobs': EXEMPT_PROGRESS,
  'PATCH /v1/agent/jobs/:id': EXEMPT_PROGRESS,
  'POST /v1/site-agent/heartbeat': EXEMPT_PROGRESS,
  'POST /v1/site-agent/commands/:id/result': EXEMPT_PROGRESS,
  'PUT /v1/agent/probe/:region/objects/:id': { exempt: 'a region probe: test bytes, deleted at once' },
  'DELETE /v1/agent/probe/:region/objects/:id': { exempt: 'a region probe: test bytes, deleted at once' },
  'POST /v1/agent/probe': { exempt: "a region probe's measurements, not a setting" },
};

export function auditRuleOf(method: string, path: string): AuditRule | AuditExemption | undefined {
  return AUDITED_ROUTES[`${method} ${path}`];
}

export function isExemption(rule: AuditRule | AuditExemption): rule is AuditExemption {
  return 'exempt' in rule;
}

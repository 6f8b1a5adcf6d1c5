import { BadInputError, ConflictError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import type { PlanRow, RunRow, WorkloadRow } from '../vault/catalog/index.ts';
import {
  applyPlanDocument,
  checkFailoverBody,
  commitRun,
  confirmAction,
  failback,
  planJson,
  planWorkloads,
  reprotect,
  runDetailJson,
  runJson,
  startCleanup,
  startFailover,
  workloadDrills,
} from '../vault/dr/plans/index.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// Recovery plans and their runs: plans applied from YAML, failovers (test, planned,
// unplanned), failback, commit, cleanup, reprotect and manual confirmations — each of
// those an owner's act, since it moves production — and the drill history. A token
// scoped to one vault sees only that vault's plans, runs and workloads. The runner is a
// background task (./dr-plan-tasks.ts); logic in src/vault/dr/plans.

const KIB = 1024;
const OBJECT: Schema = { type: 'object' };

function scopeOf(ctx: RequestContext): string | null {
  return ctx.token?.vaultId ?? null;
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', `send a JSON object ${shape}`);
  }
  return body as Record<string, unknown>;
}

function hidden<T extends { vaultId: string }>(ctx: RequestContext, row: T | undefined): T | undefined {
  const scope = scopeOf(ctx);
  return row && (scope === null || scope === row.vaultId) ? row : undefined;
}

function quiet<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((err: unknown) => {
    if (isOffsiteError(err) && err.kind === 'not-found') return undefined;
    throw err;
  });
}

/** Another vault's plan is "not found" to a scoped token, the same answer as no plan at all. */
async function visiblePlan(ctx: RequestContext, name: string): Promise<PlanRow> {
  const plan = hidden(ctx, await quiet(ctx.services.catalog.getPlanByName(name)));
  if (!plan) throw planNotFound(name);
  return plan;
}

async function visibleRun(ctx: RequestContext): Promise<{ run: RunRow; plan: PlanRow }> {
  const { catalog } = ctx.services;
  const id = ctx.params.id!;
  const run = hidden(ctx, await quiet(catalog.getRun(id)));
  if (!run) throw new NotFoundError('RUN_NOT_FOUND', `no recovery plan run ${id}`);
  return { run, plan: await catalog.getPlan(run.planId) };
}

function planNotFound(name: string): NotFoundError {
  return new NotFoundError('PLAN_NOT_FOUND', `no recovery plan named "${name}"`, {
    hint: 'list the plans with `offsite dr plan list`',
  });
}

async function putPlans(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const applied = await applyPlanDocument(catalog, ctx.body, scopeOf(ctx), now());
  return {
    body: { plans: applied.map(({ plan, change }) => ({ name: plan.name, version: plan.version, change })) },
  };
}

async function listPlans(ctx: RequestContext): Promise<RouteResult> {
  const scope = scopeOf(ctx);
  const plans = await ctx.services.catalog.listPlans(scope === null ? {} : { vaultId: scope });
  return { body: { plans: plans.map(planJson) } };
}

async function getPlan(ctx: RequestContext): Promise<RouteResult> {
  const plan = await visiblePlan(ctx, ctx.params.name!);
  const runs = await ctx.services.catalog.listRuns({ planId: plan.id, limit: 10 });
  return { body: { ...planJson(plan), runs: runs.map((r) => runJson(r, plan.name)) } };
}

async function postFailover(ctx: RequestContext): Promise<RouteResult> {
  const plan = await visiblePlan(ctx, ctx.params.name!);
  const request = checkFailoverBody(ctx.body);
  const { catalog, now } = ctx.services;
  const run = await startFailover(
    catalog,
    plan,
    { ...request, failback: false, startedBy: ctx.token!.name },
    now(),
  );
  return { status: 201, body: runJson(run, plan.name) };
}

async function postFailback(ctx: RequestContext): Promise<RouteResult> {
  const plan = await visiblePlan(ctx, ctx.params.name!);
  const run = await failback(ctx.services.catalog, plan, ctx.token!.name, ctx.services.now());
  return { status: 201, body: runJson(run, plan.name) };
}

/** {plan}, {workload}, or {name}: a plan by that name, else a workload (both: say which). */
async function reprotectTargets(ctx: RequestContext, input: Record<string, unknown>): Promise<WorkloadRow[]> {
  const { catalog } = ctx.services;
  const name = [input.plan, input.workload, input.name].find((v) => typeof v === 'string') as
    | string
    | undefined;
  if (name === undefined || name.length > 200)
    throw new BadInputError('BAD_FIELD', 'name: the plan or workload to reprotect');
  const plan =
    input.workload === undefined ? hidden(ctx, await quiet(catalog.getPlanByName(name))) : undefined;
  const workload =
    input.plan === undefined ? hidden(ctx, await quiet(catalog.getWorkloadByName(name))) : undefined;
  if (plan && workload)
    throw new ConflictError('NAME_AMBIGUOUS', `"${name}" names a plan and a workload`, {
      hint: 'send {"plan": NAME} or {"workload": NAME}',
    });
  if (plan) return planWorkloads(catalog, plan);
  if (workload) return [workload];
  if (input.plan !== undefined) throw planNotFound(name);
  throw new NotFoundError('WORKLOAD_NOT_FOUND', `no plan or workload named "${name}"`);
}

async function postReprotect(ctx: RequestContext): Promise<RouteResult> {
  const input = objectBody(ctx.body, '{name} (a plan or a workload), or {plan} or {workload}');
  const { catalog, now } = ctx.services;
  const reversed = await reprotect(catalog, await reprotectTargets(ctx, input), now());
  const sites = new Map((await catalog.listSites()).map((s) => [s.id, s.name]));
  return {
    body: {
      workloads: reversed.map((w) => ({
        name: w.name,
        version: w.version,
        primarySite: sites.get(w.primarySiteId) ?? w.primarySiteId,
        replicaSite: sites.get(w.replicaSiteId) ?? w.replicaSiteId,
      })),
    },
  };
}

async function listRuns(ctx: RequestContext): Promise<RouteResult> {
  const { catalog } = ctx.services;
  const scope = scopeOf(ctx);
  const planName = ctx.query.get('plan');
  const plan = planName === null ? undefined : await visiblePlan(ctx, planName);
  const runs = await catalog.listRuns({
    ...(scope === null ? {} : { vaultId: scope }),
    ...(plan ? { planId: plan.id } : {}),
    limit: 200,
  });
  const names = new Map((await catalog.listPlans()).map((p) => [p.id, p.name]));
  return { body: { runs: runs.map((r) => runJson(r, names.get(r.planId) ?? r.planId)) } };
}

async function getRun(ctx: RequestContext): Promise<RouteResult> {
  const { run, plan } = await visibleRun(ctx);
  return { body: await runDetailJson(ctx.services.catalog, run, plan.name) };
}

async function postConfirm(ctx: RequestContext): Promise<RouteResult> {
  const { run, plan } = await visibleRun(ctx);
  const input = objectBody(ctx.body, '{action}');
  if (typeof input.action !== 'string' || input.action.length > 200)
    throw new BadInputError('BAD_FIELD', 'action: the name of the manual action');
  const { catalog, now } = ctx.services;
  await confirmAction(catalog, run, input.action, ctx.token!.name, now());
  return { body: await runDetailJson(catalog, run, plan.name) };
}

async function postCommit(ctx: RequestContext): Promise<RouteResult> {
  const { run, plan } = await visibleRun(ctx);
  return { body: runJson(await commitRun(ctx.services.catalog, run, ctx.services.now()), plan.name) };
}

async function postCleanup(ctx: RequestContext): Promise<RouteResult> {
  const { run, plan } = await visibleRun(ctx);
  return { body: runJson(await startCleanup(ctx.services.catalog, run, ctx.services.now()), plan.name) };
}

async function getDrills(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  return { body: { workloads: await workloadDrills(catalog, scopeOf(ctx), now()) } };
}

const planRoute = (r: Omit<Route, 'tag' | 'auth' | 'response'> & { status?: number }): Route => {
  const { status, ...rest } = r;
  return {
    ...rest,
    auth: 'token',
    tag: 'disaster recovery',
    response: { status: status ?? 200, schema: OBJECT },
  };
};

export const DR_PLAN_ROUTES: readonly Route[] = [
  planRoute({
    method: 'PUT',
    path: '/v1/dr/plans',
    minRole: 'contributor',
    bodyLimit: 1024 * KIB,
    summary:
      'Apply a recovery plan file (its YAML as JSON): all plans checked, then created or updated at once',
    requestBody: { type: 'object', required: ['plans'], properties: { plans: { type: 'array' } } },
    handler: putPlans,
  }),
  planRoute({
    method: 'GET',
    path: '/v1/dr/plans',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List the recovery plans',
    handler: listPlans,
  }),
  planRoute({
    method: 'GET',
    path: '/v1/dr/plans/:name',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Show a recovery plan and its latest runs',
    handler: getPlan,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/plans/:name/failover',
    minRole: 'owner',
    bodyLimit: 4 * KIB,
    status: 201,
    summary: 'Start a failover of the plan: test (isolated copy), planned (zero data loss) or unplanned',
    requestBody: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['test', 'planned', 'unplanned'] },
        point: { type: 'string' },
        portOffset: { type: 'integer' },
      },
    },
    handler: postFailover,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/plans/:name/failback',
    minRole: 'owner',
    bodyLimit: 0,
    status: 201,
    summary: 'Fail back: a planned failover to the original site, after commit and reprotect',
    handler: postFailback,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/reprotect',
    minRole: 'owner',
    bodyLimit: 4 * KIB,
    summary: "Reverse replication of a plan's workloads (or one workload) after a committed failover",
    requestBody: {
      type: 'object',
      properties: { name: { type: 'string' }, plan: { type: 'string' }, workload: { type: 'string' } },
    },
    handler: postReprotect,
  }),
  planRoute({
    method: 'GET',
    path: '/v1/dr/runs',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Drill history: failover runs, newest first (?plan=NAME for one plan), with RTO and RPO',
    handler: listRuns,
  }),
  planRoute({
    method: 'GET',
    path: '/v1/dr/runs/:id',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'One run with its steps and their timings',
    handler: getRun,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/runs/:id/confirm',
    minRole: 'owner',
    bodyLimit: 4 * KIB,
    summary: 'Confirm a manual action the run waits for',
    requestBody: { type: 'object', required: ['action'], properties: { action: { type: 'string' } } },
    handler: postConfirm,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/runs/:id/commit',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'Commit a succeeded planned or unplanned failover (then reprotect may reverse replication)',
    handler: postCommit,
  }),
  planRoute({
    method: 'POST',
    path: '/v1/dr/runs/:id/cleanup',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'Clean up a test failover: stop its copies, remove its folders, check that nothing is left',
    handler: postCleanup,
  }),
  planRoute({
    method: 'GET',
    path: '/v1/dr/drills',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Per workload: the last successful test failover, flagged when older than 90 days',
    handler: getDrills,
  }),
];

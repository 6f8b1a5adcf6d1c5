import { isOffsiteError } from '../../../errors/index.ts';
import type { Catalog, JsonObject, PlanRow, RunRow } from '../../catalog/index.ts';
import { resolveOpen } from '../../ops/index.ts';
import { startFailover } from '../plans/start.ts';
import { decide, type Evidence } from './decide.ts';
import { evidenceJson, gatherEvidence } from './evidence.ts';
import { autoFailoverOf } from './plan-option.ts';

// Acting on the decision for every plan with automatic failover on (run by the
// dr-auto-failover task under its lease, src/server/dr-auto-tasks.ts). A failover starts
// one unplanned run (latest point) and is audited with its evidence; a withheld one raises
// the plan's `auto-failover-withheld` alert and is audited — once per change of reason or
// outage (the alert's message is the memory), resolved when the site is heard again.
// "Never twice for one outage": an unplanned run of the plan started since the site was
// last heard is that outage's (./evidence.ts), whoever started it and however it ended.

export const AUTO_FAILOVER_TASK = 'dr-auto-failover';
export const WITHHELD_KIND = 'auto-failover-withheld';
export const STARTED_KIND = 'auto-failover-started';
export const AUTO_FAILOVER_ACTION = 'dr.auto-failover';
export const AUTO_STARTED_BY = 'automatic failover';
const ACTOR = { kind: 'system', task: AUTO_FAILOVER_TASK } as const;

export function withheldKey(planId: string): string {
  return `auto-failover-withheld:${planId}`;
}

export interface AutoOutcome {
  plan: string;
  decision: 'started' | 'withheld';
  reason: string | null;
  runId: string | null;
}

interface Context {
  catalog: Catalog;
  plan: PlanRow;
  evidence: Evidence;
  now: number;
}

async function audit(c: Context, outcome: 'succeeded' | 'refused', code: string | null, after: JsonObject) {
  const vault = await c.catalog.getVault(c.plan.vaultId);
  await c.catalog.appendAudit({
    at: c.now,
    actor: { ...ACTOR },
    address: null,
    action: AUTO_FAILOVER_ACTION,
    route: `task ${AUTO_FAILOVER_TASK}`,
    target: `plan:${c.plan.name}`,
    vault: vault.name,
    before: null,
    after: { ...after, evidence: evidenceJson(c.evidence) },
    outcome,
    errorCode: code,
  });
}

async function withhold(
  c: Context,
  reason: string,
  why: string,
  witness?: string,
): Promise<AutoOutcome | undefined> {
  const since = new Date(c.evidence.watched.lastHeardAt).toISOString();
  const message = `automatic failover of plan "${c.plan.name}" withheld: ${why} (site "${c.evidence.watched.site}" silent to the server since ${since})`;
  const open = await c.catalog.findOpenAlert(c.plan.vaultId, withheldKey(c.plan.id));
  if (open?.message === message) return undefined; // already said, nothing new
  await c.catalog.raiseAlert({
    vaultId: c.plan.vaultId,
    serverId: null,
    kind: WITHHELD_KIND,
    severity: 'critical',
    message,
    dedupeKey: withheldKey(c.plan.id),
    raisedAt: c.now,
  });
  await audit(c, 'refused', reason, { decision: 'withheld', reason, why, witness: witness ?? null });
  return { plan: c.plan.name, decision: 'withheld', reason, runId: null };
}

async function failOver(c: Context, confirm: () => Promise<void>): Promise<AutoOutcome | undefined> {
  await confirm();
  let run: RunRow;
  try {
    run = await startFailover(
      c.catalog,
      c.plan,
      { type: 'unplanned', point: 'latest', portOffset: 0, failback: false, startedBy: AUTO_STARTED_BY },
      c.now,
    );
  } catch (err) {
    // Another run took a workload first (RUN_IN_PROGRESS), the plan moved: say so, do not retry blindly.
    if (!isOffsiteError(err) || err.kind !== 'conflict') throw err;
    return withhold(c, err.code, err.message);
  }
  const { site, lastHeardAt } = c.evidence.watched;
  await resolveOpen(c.catalog, c.plan.vaultId, withheldKey(c.plan.id), c.now);
  await c.catalog.raiseAlert({
    vaultId: c.plan.vaultId,
    serverId: null,
    kind: STARTED_KIND,
    severity: 'critical',
    message: `plan "${c.plan.name}" is failing over automatically (run ${run.id}): site "${site}" silent since ${new Date(lastHeardAt).toISOString()}, and its witnesses agree`,
    dedupeKey: `auto-failover-started:${run.id}`,
    raisedAt: c.now,
  });
  await audit(c, 'succeeded', null, {
    decision: 'started',
    runId: run.id,
    type: 'unplanned',
    point: 'latest',
  });
  return { plan: c.plan.name, decision: 'started', reason: null, runId: run.id };
}

async function checkPlan(c: Context, confirm: () => Promise<void>): Promise<AutoOutcome | undefined> {
  const decision = decide(c.evidence);
  switch (decision.action) {
    case 'fail-over':
      return failOver(c, confirm);
    case 'withhold':
      return withhold(c, decision.reason, decision.message, decision.witness);
    case 'none':
      if (decision.why === 'site-heard')
        await resolveOpen(c.catalog, c.plan.vaultId, withheldKey(c.plan.id), c.now);
      return undefined;
  }
}

/** One pass over the plans; `confirm` checks this instance still holds the task's lease before a start. */
export async function checkAutoFailover(
  catalog: Catalog,
  now: number,
  confirm: () => Promise<void> = async () => {},
): Promise<AutoOutcome[]> {
  const outcomes: AutoOutcome[] = [];
  for (const plan of await catalog.listPlans()) {
    const option = autoFailoverOf(plan.spec);
    if (!option) continue;
    const evidence = await gatherEvidence(catalog, plan, option, now);
    if (!evidence) continue;
    const outcome = await checkPlan({ catalog, plan, evidence, now }, confirm);
    if (outcome) outcomes.push(outcome);
  }
  return outcomes;
}

import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Catalog, NewRunStep, PlanRow, WorkloadRow } from '../types.ts';
import { type Context, makeVault, rejectsWith, T0, UUID } from './context.ts';

// Recovery plans, their runs and run steps (migration 6), and reversing a workload.

async function setUp(c: Catalog): Promise<{ plan: PlanRow; db: WorkloadRow; vaultId: string }> {
  const vault = await makeVault(c, 'main');
  const a = await c.createSite({ vaultId: vault.id, name: 'dc1', createdAt: T0 });
  const b = await c.createSite({ vaultId: vault.id, name: 'dc2', createdAt: T0 });
  const [applied] = await c.applyWorkloads(
    [
      {
        vaultId: vault.id,
        name: 'db',
        spec: { primarySite: 'dc1', replicaSite: 'dc2' },
        primarySiteId: a.id,
        replicaSiteId: b.id,
      },
    ],
    T0,
  );
  const [plan] = await c.applyPlans([{ vaultId: vault.id, name: 'shop', spec: { groups: [] } }], T0);
  return { plan: plan!.plan, db: applied!.workload, vaultId: vault.id };
}

function step(name: string, stage: number, workloadId: string | null, siteId: string | null): NewRunStep {
  return {
    name,
    phase: 'failover',
    stage,
    lane: name,
    kind: workloadId ? 'start' : 'manual',
    workloadId,
    siteId,
    params: { workload: 'db' },
    onError: 'fail',
    state: 'pending',
  };
}

export function planCases(ctx: Context): void {
  it('applies plans: created, unchanged, updated with a new version; names are unique across vaults', async () => {
    const { plan, vaultId } = await setUp(ctx.catalog);
    assert.match(plan.id, UUID);
    assert.deepEqual([plan.name, plan.version, plan.spec, plan.createdAt], ['shop', 1, { groups: [] }, T0]);
    const same = await ctx.catalog.applyPlans([{ vaultId, name: 'shop', spec: { groups: [] } }], T0 + 1);
    assert.equal(same[0]!.change, 'unchanged');
    const changed = await ctx.catalog.applyPlans([{ vaultId, name: 'shop', spec: { groups: [1] } }], T0 + 2);
    assert.deepEqual(
      [changed[0]!.change, changed[0]!.plan.version, changed[0]!.plan.updatedAt],
      ['updated', 2, T0 + 2],
    );
    assert.deepEqual(await ctx.catalog.getPlanByName('shop'), changed[0]!.plan);
    assert.deepEqual(await ctx.catalog.getPlan(plan.id), changed[0]!.plan);
    assert.deepEqual(
      (await ctx.catalog.listPlans({ vaultId })).map((p) => p.name),
      ['shop'],
    );
    assert.deepEqual(await ctx.catalog.listPlans({ vaultId: 'other' }), []);
    const other = await makeVault(ctx.catalog, 'other');
    await rejectsWith(
      ctx.catalog.applyPlans([{ vaultId: other.id, name: 'shop', spec: {} }], T0),
      'conflict',
      'PLAN_NAME_TAKEN',
    );
    await rejectsWith(ctx.catalog.getPlanByName('nope'), 'not-found', 'PLAN_NOT_FOUND');
  });

  it('creates runs with their steps, changes steps only from the state seen, and keeps runs apart', async () => {
    const { plan, db } = await setUp(ctx.catalog);
    const input = {
      planId: plan.id,
      planVersion: 1,
      type: 'test' as const,
      failback: false,
      point: 'latest',
      portOffset: 10_000,
      startedBy: 'admin',
      startedAt: T0 + 10,
      steps: [step('start/db', 0, db.id, db.replicaSiteId), step('check', 1, null, null)],
    };
    const run = await ctx.catalog.createRun(input);
    assert.deepEqual(
      [run.state, run.type, run.portOffset, run.failback, run.cleanupState, run.rtoMs],
      ['running', 'test', 10_000, false, null, null],
    );
    assert.deepEqual(
      (await ctx.catalog.listActiveRuns()).map((r) => r.id),
      [run.id],
    );
    await rejectsWith(ctx.catalog.createRun(input), 'conflict', 'RUN_IN_PROGRESS');

    const steps = await ctx.catalog.listRunSteps(run.id);
    assert.deepEqual(
      steps.map((s) => [s.seq, s.name, s.state]),
      [
        [0, 'start/db', 'pending'],
        [1, 'check', 'pending'],
      ],
    );
    const running = await ctx.catalog.updateRunStep(run.id, 0, {
      expectState: 'pending',
      state: 'running',
      startedAt: T0 + 11,
      commandId: 'c1',
    });
    assert.deepEqual([running.state, running.startedAt, running.commandId], ['running', T0 + 11, 'c1']);
    await rejectsWith(
      ctx.catalog.updateRunStep(run.id, 0, { expectState: 'pending', state: 'running' }),
      'conflict',
      'STEP_CHANGED',
    );
    const done = await ctx.catalog.updateRunStep(run.id, 0, {
      expectState: 'running',
      state: 'succeeded',
      finishedAt: T0 + 20,
      result: { healthyAt: 'x' },
    });
    assert.deepEqual([done.commandId, done.result, done.finishedAt], ['c1', { healthyAt: 'x' }, T0 + 20]);

    const finished = await ctx.catalog.updateRun(run.id, {
      state: 'succeeded',
      finishedAt: T0 + 30,
      rtoMs: 20,
      rpoMs: 5,
    });
    assert.deepEqual([finished.state, finished.rtoMs, finished.rpoMs], ['succeeded', 20, 5]);
    assert.deepEqual(await ctx.catalog.listActiveRuns(), []);
    // A test not cleaned up still holds its workload for another test.
    await rejectsWith(ctx.catalog.createRun(input), 'conflict', 'RUN_IN_PROGRESS');
    assert.deepEqual(await ctx.catalog.listWorkloadDrills(), [{ workloadId: db.id, lastTestAt: T0 + 30 }]);

    const added = await ctx.catalog.addRunSteps(run.id, [
      { ...step('cleanup', 2, null, null), phase: 'cleanup' },
    ]);
    assert.deepEqual(
      added.map((s) => s.seq),
      [0, 1, 2],
    );
    await ctx.catalog.updateRun(run.id, { cleanupState: 'succeeded', cleanupFinishedAt: T0 + 40 });
    const again = await ctx.catalog.createRun({ ...input, startedAt: T0 + 50 });
    assert.deepEqual(
      (await ctx.catalog.listRuns({ planId: plan.id })).map((r) => r.id),
      [again.id, run.id],
    );
    assert.deepEqual(await ctx.catalog.listRuns({ vaultId: 'other' }), []);
    await rejectsWith(ctx.catalog.getRun('nope'), 'not-found', 'RUN_NOT_FOUND');
  });

  it('reverses a workload: primary and replica swap, in the spec too, one version more', async () => {
    const { db } = await setUp(ctx.catalog);
    const reversed = await ctx.catalog.reverseWorkload('db', T0 + 5);
    assert.deepEqual(
      [reversed.primarySiteId, reversed.replicaSiteId, reversed.version, reversed.updatedAt],
      [db.replicaSiteId, db.primarySiteId, 2, T0 + 5],
    );
    assert.deepEqual([reversed.spec.primarySite, reversed.spec.replicaSite], ['dc2', 'dc1']);
    await rejectsWith(ctx.catalog.reverseWorkload('nope', T0), 'not-found', 'WORKLOAD_NOT_FOUND');
  });
}

import * as plans from '../shared/dr-plans.ts';
import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';
import { numbered } from './dr.ts';

// Recovery plans, runs and run steps (../shared/dr-plans.ts) on PostgreSQL: each
// operation in a transaction of its own, its statements awaited one by one, as ./dr.ts.

function execute(db: Db, step: Step): Promise<unknown> {
  const sql = numbered(step.sql);
  if (step.op === 'get') return db.get(sql, ...step.params);
  if (step.op === 'all') return db.all(sql, ...step.params);
  return db.run(sql, ...step.params);
}

function async<A extends unknown[], R>(
  make: (...args: A) => Operation<R>,
): (db: Db, ...args: A) => Promise<R> {
  return (db: Db, ...args: A) =>
    db.atomic(async (tx) => {
      const operation = make(...args);
      let answer: unknown;
      for (;;) {
        const next = operation.next(answer);
        if (next.done) return next.value;
        answer = await execute(tx, next.value);
      }
    });
}

export const applyPlans = async(plans.applyPlans);
export const getPlanByName = async(plans.getPlanByName);
export const getPlan = async(plans.getPlan);
export const listPlans = async(plans.listPlans);
export const createRun = async(plans.createRun);
export const getRun = async(plans.getRun);
export const listRuns = async(plans.listRuns);
export const listActiveRuns = async(plans.listActiveRuns);
export const updateRun = async(plans.updateRun);
export const listRunSteps = async(plans.listRunSteps);
export const updateRunStep = async(plans.updateRunStep);
export const addRunSteps = async(plans.addRunSteps);
export const reverseWorkload = async(plans.reverseWorkload);
export const listWorkloadDrills = async(plans.listWorkloadDrills);

import * as plans from '../shared/dr-plans.ts';
import type { Operation, Step } from '../shared/dr-steps.ts';
import type { Db } from './db.ts';

// Recovery plans, runs and run steps (../shared/dr-plans.ts) on SQLite: each operation
// runs synchronously and atomically, as ./dr.ts runs the other DR operations.

function execute(db: Db, step: Step): unknown {
  if (step.op === 'get') return db.get(step.sql, ...step.params);
  if (step.op === 'all') return db.all(step.sql, ...step.params);
  return db.run(step.sql, ...step.params);
}

function sync<A extends unknown[], R>(make: (...args: A) => Operation<R>): (db: Db, ...args: A) => R {
  return (db: Db, ...args: A) =>
    db.atomic(() => {
      const operation = make(...args);
      let answer: unknown;
      for (;;) {
        const next = operation.next(answer);
        if (next.done) return next.value;
        answer = execute(db, next.value);
      }
    });
}

export const applyPlans = sync(plans.applyPlans);
export const getPlanByName = sync(plans.getPlanByName);
export const getPlan = sync(plans.getPlan);
export const listPlans = sync(plans.listPlans);
export const createRun = sync(plans.createRun);
export const getRun = sync(plans.getRun);
export const listRuns = sync(plans.listRuns);
export const listActiveRuns = sync(plans.listActiveRuns);
export const updateRun = sync(plans.updateRun);
export const listRunSteps = sync(plans.listRunSteps);
export const updateRunStep = sync(plans.updateRunStep);
export const addRunSteps = sync(plans.addRunSteps);
export const reverseWorkload = sync(plans.reverseWorkload);
export const listWorkloadDrills = sync(plans.listWorkloadDrills);

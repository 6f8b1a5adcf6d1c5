import * as plans from '../shared/dr-plans.ts';
import { sync } from './steps.ts';

// Recovery plans, runs and run steps (../shared/dr-plans.ts) on SQLite: each operation
// runs synchronously and atomically, as ./dr.ts runs the other DR operations.

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

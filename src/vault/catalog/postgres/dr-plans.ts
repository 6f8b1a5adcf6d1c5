import * as plans from '../shared/dr-plans.ts';
import { async } from './steps.ts';

// Recovery plans, runs and run steps (../shared/dr-plans.ts) on PostgreSQL: each
// operation in a transaction of its own, its statements awaited one by one, as ./dr.ts.

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

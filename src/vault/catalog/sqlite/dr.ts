import * as sites from '../shared/dr.ts';
import * as ops from '../shared/dr-ops.ts';
import { sync } from './steps.ts';

// The disaster-recovery operations (../shared/dr.ts, ../shared/dr-ops.ts) on SQLite: each
// runs synchronously and atomically, its statements answered one by one.

export const createSite = sync(sites.createSite);
export const getSite = sync(sites.getSite);
export const getSiteByName = sync(sites.getSiteByName);
export const listSites = sync(sites.listSites);
export const deleteSite = sync(sites.deleteSite);
export const setSiteDown = sync(sites.setSiteDown);
export const issueSiteCredentials = sync(sites.issueSiteCredentials);
export const consumeSiteCredentials = sync(sites.consumeSiteCredentials);
export const registerSiteAgent = sync(sites.registerSiteAgent);
export const findSiteAgentByFingerprint = sync(sites.findSiteAgentByFingerprint);
export const findSiteAgentOfSite = sync(sites.findSiteAgentOfSite);
export const applyWorkloads = sync(ops.applyWorkloads);
export const getWorkloadByName = sync(ops.getWorkloadByName);
export const listWorkloads = sync(ops.listWorkloads);
export const recordSiteReport = sync(ops.recordSiteReport);
export const findSiteReport = sync(ops.findSiteReport);
export const listReplicationHealth = sync(ops.listReplicationHealth);
export const getFencing = sync(ops.getFencing);
export const advanceFencing = sync(ops.advanceFencing);
export const queueCommand = sync(ops.queueCommand);
export const claimCommands = sync(ops.claimCommands);
export const getCommand = sync(ops.getCommand);
export const finishCommand = sync(ops.finishCommand);
export const listCommands = sync(ops.listCommands);

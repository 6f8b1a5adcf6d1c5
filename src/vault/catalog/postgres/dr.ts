import * as sites from '../shared/dr.ts';
import * as ops from '../shared/dr-ops.ts';
import { async } from './steps.ts';

// The disaster-recovery operations (../shared/dr.ts, ../shared/dr-ops.ts) on PostgreSQL:
// each runs in a transaction of its own (a savepoint inside one), its statements awaited
// one by one. A retried transaction starts the operation afresh.

export const createSite = async(sites.createSite);
export const getSite = async(sites.getSite);
export const getSiteByName = async(sites.getSiteByName);
export const listSites = async(sites.listSites);
export const deleteSite = async(sites.deleteSite);
export const setSiteDown = async(sites.setSiteDown);
export const issueSiteCredentials = async(sites.issueSiteCredentials);
export const consumeSiteCredentials = async(sites.consumeSiteCredentials);
export const registerSiteAgent = async(sites.registerSiteAgent);
export const findSiteAgentByFingerprint = async(sites.findSiteAgentByFingerprint);
export const findSiteAgentOfSite = async(sites.findSiteAgentOfSite);
export const applyWorkloads = async(ops.applyWorkloads);
export const getWorkloadByName = async(ops.getWorkloadByName);
export const listWorkloads = async(ops.listWorkloads);
export const recordSiteReport = async(ops.recordSiteReport);
export const findSiteReport = async(ops.findSiteReport);
export const listReplicationHealth = async(ops.listReplicationHealth);
export const getFencing = async(ops.getFencing);
export const advanceFencing = async(ops.advanceFencing);
export const queueCommand = async(ops.queueCommand);
export const claimCommands = async(ops.claimCommands);
export const getCommand = async(ops.getCommand);
export const finishCommand = async(ops.finishCommand);
export const listCommands = async(ops.listCommands);

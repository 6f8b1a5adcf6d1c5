import * as audit from '../shared/audit.ts';
import { sync } from './steps.ts';

// The audit log and region probes (../shared/audit.ts) on SQLite: each operation runs
// synchronously and atomically (BEGIN IMMEDIATE: one writer, so one chain).

export const appendAudit = sync(audit.appendAudit);
export const listAudit = sync(audit.listAudit);
export const auditHead = sync(audit.auditHead);
export const pruneAudit = sync(audit.pruneAudit);
export const saveProbe = sync(audit.saveProbe);
export const listProbes = sync(audit.listProbes);

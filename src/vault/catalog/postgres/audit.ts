import * as audit from '../shared/audit.ts';
import { async } from './steps.ts';

// The audit log and region probes (../shared/audit.ts) on PostgreSQL: each operation in
// a serializable transaction of its own. Two instances appending at once both update the
// head row; one waits or is refused and run again from the start, so it reads the new
// head and the chain stays one line.

export const appendAudit = async(audit.appendAudit);
export const listAudit = async(audit.listAudit);
export const auditHead = async(audit.auditHead);
export const pruneAudit = async(audit.pruneAudit);
export const saveProbe = async(audit.saveProbe);
export const listProbes = async(audit.listProbes);

// Retention and soft delete of recovery points, vault-side (DESIGN.md §2.3, §4): the
// vault's policy expires points (soft delete), soft-deleted points run out after the
// vault's softDeleteDays, and a person can bring one back; the two take turns per server
// through a lease in the catalog, whichever instance runs them. Imports catalog, layout,
// records, policy, repo (the pure retention engine), storage and errors.

export { applyRetention, DAY_MS, type RetentionOutcome } from './apply.ts';
export { expiredPoints, pointAsSnapshot } from './expire.ts';
export { POINTS_LOCK_MS, pointsLockName, withPointsLock } from './lock.ts';
export { pointHoldName } from './records.ts';
export { findPoint, undeletePoint } from './undelete.ts';

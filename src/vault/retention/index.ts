// Retention and soft delete of recovery points, vault-side (DESIGN.md §2.3, §4): the
// vault's policy expires points (soft delete), soft-deleted points run out after the
// vault's softDeleteDays, and a person can bring one back. Imports catalog, layout,
// records, policy, repo (the pure retention engine), storage and errors.

export { applyRetention, DAY_MS, type RetentionOutcome } from './apply.ts';
export { expiredPoints, pointAsSnapshot } from './expire.ts';
export { pointHoldName } from './records.ts';
export { findPoint, undeletePoint } from './undelete.ts';

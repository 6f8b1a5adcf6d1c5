// The audit log's service side: verifying its hash chain. Entries are appended by the
// server's audit hook (src/server/audit.ts) and pruned by its background task.
export { type AuditBreak, type AuditVerification, expectedHash, verifyAuditLog } from './verify.ts';

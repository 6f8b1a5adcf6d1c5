// The people and operations side of the vault service: users and passwords, API tokens,
// jobs agents report, alerts (failed backups, quota, certificate expiry) and their
// delivery to webhooks. Service rules only, over the Catalog; no HTTP server here (that
// is src/server). This folder imports from ../catalog, util and errors.

export * from './alerts.ts';
export * from './cert-alerts.ts';
export * from './delivery.ts';
export { clip, iso } from './input.ts';
export * from './jobs.ts';
export * from './login-link.ts';
export * from './missed-backups.ts';
export * from './passwords.ts';
export * from './quota.ts';
export * from './roles.ts';
export * from './sealing.ts';
export * from './tokens.ts';
export * from './users.ts';
export * from './visible.ts';
export * from './webhooks.ts';

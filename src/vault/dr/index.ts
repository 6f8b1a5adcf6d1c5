// The recovery manager's control plane (DESIGN.md §6): sites and their site agents,
// workloads declared in YAML, heartbeats with inventory and replication health, the
// site-down alert, fencing epochs and commands to site agents. Service rules over the
// Catalog; no HTTP here (src/server/dr-routes.ts) and no workload data ever (that goes
// site agent to site agent, src/dr/replication). Imports ../catalog, ../ops, ../registration,
// pki, errors and the `yaml` package.

export * from './commands.ts';
export * from './heartbeat.ts';
export * from './names.ts';
export * from './sites.ts';
export * from './status.ts';
export * from './workload-file.ts';
export * from './workloads.ts';

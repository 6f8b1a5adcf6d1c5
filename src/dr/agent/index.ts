// The site agent: the process that runs at a site (a data centre) for disaster recovery
// (DESIGN.md §6). It registers with a site credentials file, keeps its certificate and key
// in its folder, sends heartbeats with its inventory and replication health (metadata
// only, never workload data), and runs the commands the server queues for its site.
// It drives replication (../replication) as the server assigns it, and runs disaster
// recovery's commands (start, stop, fence, materialise, …; contract in commands.ts) with
// fencing epochs and workload process records kept in its folder (layout.ts). This folder
// imports from ../replication, src/repo (types), src/errors, src/util and node: modules
// only (its tests also use src/pki) — never src/server or src/cli.

export { SiteClient, type SiteClientOptions } from './client.ts';
export { type Assignment, type Command, type CommandResult, executeCommand, type Step } from './commands.ts';
export type { DrContext } from './context.ts';
export { type FencingEntry, FencingStore } from './fencing.ts';
export { type DrLayout, drLayout } from './layout.ts';
export { type ProbeOutcome, type ProbeSpec, runProbe } from './probe.ts';
export { isAlive, type ProcessRecord, ProcessTable, processId, terminateGroup } from './processes.ts';
export { readSiteCredentialsFile, registerSiteAgent } from './register.ts';
export { renewalDue, renewCertificate } from './renew.ts';
export { ReplicationManager, siteAgentName } from './replication.ts';
export { AGENT_VERSION, type RunOptions, readReplicationHealth, runSiteAgent } from './run.ts';
export {
  loadSiteAgentState,
  requireSiteAgentState,
  type SiteAgentInfo,
  type SiteAgentState,
  saveSiteAgentState,
  siteAgentDir,
  siteAgentFiles,
} from './state.ts';

// The site agent: the process that runs at a site (a data centre) for disaster recovery
// (DESIGN.md §6). It registers with a site credentials file, keeps its certificate and key
// in its folder, sends heartbeats with its inventory and replication health (metadata
// only, never workload data), and runs the commands the server queues for its site.
// Replication itself is ../replication. This folder imports from src/errors, src/util and
// node: modules only (its tests also use src/pki) — never src/server or src/cli.

export { SiteClient, type SiteClientOptions } from './client.ts';
export { type Assignment, type Command, type CommandResult, executeCommand, type Step } from './commands.ts';
export { type ProbeOutcome, type ProbeSpec, runProbe } from './probe.ts';
export { readSiteCredentialsFile, registerSiteAgent } from './register.ts';
export { renewalDue, renewCertificate } from './renew.ts';
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

// The agent on a protected server: its registration with a vault (state in
// $OFFSITE_AGENT_DIR), its connection to the vault (client certificate, renewal), and
// the commit of recovery points after backups. It drives src/repo against the vault's
// HTTP BlobStore. This folder imports from repo, storage, pki, vault (pure helpers),
// util and errors, and the server's HTTPS client module.

export { backupToVault, type VaultBackup } from './backup-job.ts';
export { type CommittedPoint, commitBackup } from './commit.ts';
export { finishJob, type JobReport, startJob } from './jobs.ts';
export { proxySummary, throttleSummary } from './network.ts';
export { readCredentialsFile, registerWithCertificate, registerWithCredentialsFile } from './register.ts';
export {
  type AgentInfo,
  type AgentState,
  agentDir,
  agentFiles,
  loadAgentState,
  requireAgentState,
  saveAgentState,
} from './state.ts';
export {
  agentClient,
  proxyAgentFor,
  renewIfDue,
  type VaultStoreOptions,
  vaultClient,
  vaultRepoStore,
} from './vault.ts';

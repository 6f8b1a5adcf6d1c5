// Workload replication between two site agents (DESIGN.md §6): the primary backs up a
// workload's data paths with the repository engine into a create-only store the replica
// serves over mutual TLS; the replica keeps, expires and materialises recovery points.
// The vault never sees workload data or the workload key.
export { type FreezeHooks, withFreeze } from './freeze.ts';
export {
  type HealthState,
  type ReplicaHealth,
  type ReplicationHealth,
  replicaHealth,
  replicaStatus,
  senderHealth,
} from './health.ts';
export { acceptKey, loadOrCreateKey, newWorkloadKey, readKey } from './keys.ts';
export {
  choosePoint,
  type Materialised,
  type MaterialiseOptions,
  materialise,
  type PointChoice,
} from './materialise.ts';
export {
  APP_CONSISTENT,
  type Consistency,
  CRASH_CONSISTENT,
  DR_TAG,
  REPLICATION_PREFIX,
  validateWorkloadId,
  workloadBasePath,
} from './protocol.ts';
export {
  applyReplicaRetention,
  listPoints,
  openReplica,
  type PointInfo,
  pointOf,
  type RetentionRun,
  type RetentionRunOptions,
  withReplicaTurn,
} from './replica.ts';
export {
  type ReceivedStats,
  ReplicaServer,
  type ReplicaServerOptions,
  type ReplicaWorkload,
  replicaRepoDir,
  workloadDir,
} from './replica-server.ts';
export { checkRetention, MAX_HOURLY_POINTS, planRetention, type ReplicaRetention } from './retention.ts';
export {
  FREQUENCIES,
  type Frequency,
  parseFrequency,
  ReplicationScheduler,
  type SchedulerOptions,
} from './scheduler.ts';
export {
  type CycleResult,
  type ReplicaTarget,
  type ReplicationSource,
  Replicator,
  type ReplicatorOptions,
} from './sender.ts';
export type { CycleError, PointSummary, SenderState } from './sender-state.ts';
export type { SiteTls } from './tls.ts';

// The agent daemon (`offsite agent run`): its loop and schedule with catch-up, the job
// journal that keeps reports an unreachable vault could not take, the summary `agent
// status` shows, and its systemd unit. It imports from the agent folder above it, repo,
// vault (pure helpers: policy, schedule), util and errors; never from cli or server.

export { type DaemonClock, realSleep, systemClock } from './clock.ts';
export { type Delivery, journalDir, pendingReports } from './journal.ts';
export { type DaemonEvent, type DaemonLog, jsonLines } from './log.ts';
export { type DaemonOptions, type DaemonResult, runDaemon } from './loop.ts';
export {
  type RunRecord,
  readScheduleState,
  type ScheduleState,
  scheduleStateFile,
} from './schedule-state.ts';
export {
  escapePath,
  type Installed,
  installService,
  instanceDropIn,
  SYSTEM_UNIT_DIR,
  TEMPLATE_NAME,
  templateUnit,
} from './service.ts';
export { type ScheduleSummary, scheduleSummary } from './summary.ts';

import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from '../../errors/index.ts';
import type { JsonObject } from '../../vault/catalog/index.ts';
import { storedPolicy, type VaultPolicy } from '../../vault/policy.ts';
import { abandonOpenJobs, deliverJournal } from '../jobs.ts';
import { type AgentState, requireAgentState } from '../state.ts';
import { agentClient, renewIfDue } from '../vault.ts';
import type { DaemonClock } from './clock.ts';
import { tryLock } from './lock.ts';
import { type DaemonLog, errorFields, type Logger, logger } from './log.ts';
import { runBackup } from './runner.ts';
import {
  adoptSchedule,
  afterRun,
  type Plan,
  plan,
  type RunRecord,
  readScheduleState,
  type ScheduleState,
  writeScheduleState,
} from './schedule-state.ts';

// The agent daemon (`offsite agent run`): a loop of cycles. Each cycle delivers waiting
// job reports, fetches the vault's policy (so a changed policy applies without a
// restart; the last one fetched serves while the vault is unreachable), and either runs
// the backup that is due or sleeps until the next one — never longer than `refreshMs`.
// Backups run one at a time, in this loop; a lock file keeps a second daemon off the
// same agent folder. Asked to stop during a backup, it waits up to `stopGraceMs` for it,
// then abandons it (reported failed; the engine is crash-safe, and the next backup goes
// on from the packs already uploaded) and the slot runs again at the next start.

export interface DaemonOptions {
  agentDir: string;
  clock: DaemonClock;
  /** Aborted to stop (SIGTERM, SIGINT). */
  stop: AbortSignal;
  /** Aborted to abandon a running backup at once (a second signal). */
  abandon?: AbortSignal;
  /** The repository passphrase; read for each backup (a daemon cannot prompt). */
  passphrase: () => Promise<string>;
  log: DaemonLog;
  hostname?: string;
  /** Longest sleep between two looks at the policy; default 5 minutes. */
  refreshMs?: number;
  /** How long a running backup may take to finish once asked to stop; default 30 s. */
  stopGraceMs?: number;
  /** How often a running backup logs its progress; default 1 minute. */
  progressEveryMs?: number;
}

export interface DaemonResult {
  runs: number;
  /**
   * A backup was running when the daemon stopped and was left unfinished (its job is
   * reported failed). It is still in flight: the caller ends the process.
   */
  abandoned: boolean;
}

interface Ctx {
  options: DaemonOptions;
  log: Logger;
  state: ScheduleState | undefined;
  /** The policy as last fetched (kept in the state file for when the vault is unreachable). */
  policy: JsonObject | null | undefined;
  /** Whether the policy was logged since the start (it is once, then on each change). */
  policyLogged: boolean;
  runs: number;
  /** When this daemon started, on its clock. */
  since: number;
  reachable: boolean | undefined;
  /** What was last said about waiting or idling, so a cycle that changes nothing logs nothing. */
  said: string;
  failedCycles: number;
}

const DEFAULTS = { refreshMs: 5 * 60_000, stopGraceMs: 30_000, progressEveryMs: 60_000 };
const iso = (ms: number) => new Date(ms).toISOString();

/** Resolves when the signal aborts; `cancel` drops the listener. */
function whenAborted(signal: AbortSignal | undefined): { promise: Promise<void>; cancel: () => void } {
  if (!signal) return { promise: new Promise(() => {}), cancel: () => {} };
  let listener = () => {};
  const promise = new Promise<void>((resolve) => {
    listener = () => resolve();
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', listener, { once: true });
  });
  return { promise, cancel: () => signal.removeEventListener('abort', listener) };
}

async function save(ctx: Ctx, state: ScheduleState): Promise<void> {
  ctx.state = { ...state, policy: ctx.policy ?? null };
  await writeScheduleState(ctx.options.agentDir, ctx.state);
}

async function loadAgent(ctx: Ctx): Promise<AgentState> {
  const agent = await requireAgentState(ctx.options.agentDir);
  try {
    const renewed = await renewIfDue(agent);
    if (renewed !== agent) ctx.log('info', 'certificate-renewed', {});
    return renewed;
  } catch (err) {
    ctx.log('warn', 'certificate-renewal-failed', errorFields(err));
    return agent;
  }
}

async function deliver(ctx: Ctx, agent: AgentState): Promise<void> {
  const d = await deliverJournal(agent);
  if (d.delivered > 0) ctx.log('info', 'reports-delivered', { count: d.delivered, pending: d.pending });
  for (const r of d.refused)
    ctx.log('warn', 'report-refused', { file: r.file, code: r.code, error: r.message });
}

/** The vault's policy, or the one last fetched when the vault cannot be reached. */
async function currentPolicy(ctx: Ctx, agent: AgentState): Promise<VaultPolicy | null> {
  let fetched: JsonObject | null;
  try {
    const who = (await agentClient(agent).call('GET', '/v1/agent/whoami')) as { policy: JsonObject | null };
    fetched = who.policy ?? null;
  } catch (err) {
    if (ctx.reachable !== false) {
      ctx.log('warn', 'vault-unreachable', { ...errorFields(err), usingLastPolicy: Boolean(ctx.policy) });
    }
    ctx.reachable = false;
    return storedPolicy(ctx.policy ?? null);
  }
  if (ctx.reachable === false) ctx.log('info', 'vault-reachable', {});
  ctx.reachable = true;
  const policy = storedPolicy(fetched);
  if (fetched !== null && policy === null) ctx.log('error', 'policy-invalid', {});
  const changed = JSON.stringify(fetched) !== JSON.stringify(ctx.policy ?? null);
  if (changed || !ctx.policyLogged) {
    ctx.log('info', 'policy', { schedule: policy?.schedule ?? null, sources: policy?.sources ?? null });
    ctx.policyLogged = true;
  }
  if (changed) {
    ctx.policy = fetched;
    if (ctx.state) await save(ctx, ctx.state);
  }
  return policy;
}

function sayOnce(ctx: Ctx, event: string, fields: Record<string, unknown>): void {
  const key = JSON.stringify([event, fields]);
  if (key === ctx.said) return;
  ctx.said = key;
  ctx.log('info', event, fields);
}

/** Runs the backup; once asked to stop, waits the grace period, then abandons it. */
async function guardedBackup(
  ctx: Ctx,
  agent: AgentState,
  policy: VaultPolicy,
  due: Plan & { action: 'run' },
) {
  const { options } = ctx;
  const startedAt = options.clock.now();
  ctx.log('info', 'backup-started', { slot: iso(due.slot), reason: due.reason });
  const job = runBackup({
    agent,
    sources: policy.sources!,
    slot: due.slot,
    reason: due.reason,
    passphrase: options.passphrase,
    hostname: options.hostname ?? osHostname(),
    now: () => options.clock.now(),
    log: ctx.log,
    progressEveryMs: options.progressEveryMs ?? DEFAULTS.progressEveryMs,
  });
  const stop = whenAborted(options.stop);
  const first = await Promise.race([job, stop.promise.then(() => undefined)]);
  stop.cancel();
  if (first) return first;
  const grace = options.stopGraceMs ?? DEFAULTS.stopGraceMs;
  ctx.log('info', 'stopping', { waitingForBackupMs: grace });
  const abandon = whenAborted(options.abandon);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), grace);
  });
  const finished = await Promise.race([job, graceOver, abandon.promise.then(() => undefined)]);
  clearTimeout(timer);
  abandon.cancel();
  if (finished) return finished;
  const reason = 'the agent was stopped while this backup ran; the next backup goes on from what it uploaded';
  await abandonOpenJobs(agent, reason);
  const record: RunRecord = {
    slot: iso(due.slot),
    reason: due.reason,
    startedAt: iso(startedAt),
    endedAt: iso(options.clock.now()),
    status: 'abandoned',
    error: reason,
  };
  return record;
}

function logRun(ctx: Ctx, run: RunRecord): void {
  const { slot, reason, status, snapshot, point, bytesAdded, skipped, code, error } = run;
  const ms = Date.parse(run.endedAt) - Date.parse(run.startedAt);
  const level = status === 'succeeded' ? 'info' : status === 'failed' ? 'error' : 'warn';
  const fields = { slot, reason, ms, snapshot, point, bytesAdded, skipped, code, error };
  if (status === 'failed') Object.assign(fields, { failures: ctx.state?.failures });
  ctx.log(level, `backup-${status}`, fields);
}

/** One cycle; returns how long to sleep before the next, or 'abandoned'. */
async function cycle(ctx: Ctx): Promise<number | 'abandoned'> {
  const { options } = ctx;
  const refresh = options.refreshMs ?? DEFAULTS.refreshMs;
  const agent = await loadAgent(ctx);
  await deliver(ctx, agent);
  const policy = await currentPolicy(ctx, agent);
  if (!policy?.sources) {
    sayOnce(ctx, 'idle', { reason: policy ? 'the policy names no sources' : 'the vault has no policy' });
    return refresh;
  }
  const now = options.clock.now();
  const adopted = adoptSchedule(ctx.state, policy.schedule, now);
  if (adopted !== ctx.state) await save(ctx, adopted);
  const due = plan(adopted, policy.schedule, now, ctx.since);
  if (due.action === 'wait') {
    const fields = { next: due.next === undefined ? null : iso(due.next) };
    if (due.retryAt !== undefined) Object.assign(fields, { retryAt: iso(due.retryAt) });
    sayOnce(ctx, 'waiting', fields);
    return Math.max(0, Math.min(due.until - now, refresh));
  }
  ctx.said = '';
  const run = await guardedBackup(ctx, agent, policy, due);
  ctx.runs++;
  await save(ctx, afterRun(ctx.state!, run));
  logRun(ctx, run);
  return run.status === 'abandoned' ? 'abandoned' : 0;
}

export async function runDaemon(options: DaemonOptions): Promise<DaemonResult> {
  const lock = await tryLock(join(options.agentDir, 'daemon.lock'));
  if ('heldBy' in lock) {
    throw new ConflictError(
      'DAEMON_RUNNING',
      `an agent daemon already runs for ${options.agentDir} (pid ${lock.heldBy})`,
      { hint: 'stop that one first, or give this one another OFFSITE_AGENT_DIR' },
    );
  }
  const state = await readScheduleState(options.agentDir);
  const ctx: Ctx = {
    options,
    log: logger(options.log, () => options.clock.now()),
    state,
    policy: state?.policy,
    policyLogged: false,
    runs: 0,
    since: options.clock.now(),
    reachable: undefined,
    said: '',
    failedCycles: 0,
  };
  try {
    ctx.log('info', 'started', { agentDir: options.agentDir, pid: process.pid });
    let abandoned = false;
    while (!options.stop.aborted) {
      let sleepMs: number;
      try {
        const next = await cycle(ctx);
        if (next === 'abandoned') {
          abandoned = true;
          break;
        }
        sleepMs = next;
        ctx.failedCycles = 0;
      } catch (err) {
        ctx.failedCycles++;
        sleepMs = Math.min(30_000 * 2 ** (ctx.failedCycles - 1), 10 * 60_000);
        ctx.log('error', 'cycle-failed', { ...errorFields(err), retryInMs: sleepMs });
      }
      await options.clock.sleep(sleepMs, options.stop);
    }
    ctx.log('info', 'stopped', { runs: ctx.runs, abandoned });
    return { runs: ctx.runs, abandoned };
  } finally {
    await lock.release();
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { BadInputError, ConflictError, NotFoundError, TransientError } from '../../errors/index.ts';
import type { Assignment } from './commands.ts';
import type { DrContext } from './context.ts';
import { type ProbeSpec, runProbe } from './probe.ts';
import { type ProcessRecord, processId, terminateGroup, waitGone } from './processes.ts';
import { describeRun, runShell } from './shell.ts';
import type { Steps } from './steps.ts';
import { drEnv, type RunTarget, shiftedProbe } from './workload-env.ts';

// Starting and stopping a workload's copy at this site: the real one (in its own paths)
// or a test failover's (its own folder and ports). A start is refused with a stale
// fencing epoch; a stop runs the workload's stop command, then makes sure its process
// group is gone.

export const DEFAULT_START_TIMEOUT_MS = 120_000;
export const DEFAULT_STOP_TIMEOUT_MS = 60_000;
const PROBE_EVERY_MS = 500;
/** After the stop command: how long the group may take to exit before SIGTERM. */
const EXIT_GRACE_MS = 10_000;

export function spec(w: Assignment) {
  return w.spec as { start?: string; stop?: string; health?: ProbeSpec; dataPaths?: string[] };
}

export function assigned(workloads: readonly Assignment[], name: unknown): Assignment {
  const w = workloads.find((x) => x.name === name);
  if (!w) {
    throw new NotFoundError(
      'WORKLOAD_NOT_ASSIGNED',
      `workload ${String(name).slice(0, 80)} is not assigned to this site`,
      {
        hint: 'apply the workloads file naming this site, and wait for the next heartbeat',
      },
    );
  }
  return w;
}

export function epochOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new BadInputError('BAD_EPOCH', 'epoch must be a whole number from 1');
  return value;
}

/** Probes until healthy or the deadline; returns the last outcome's detail. */
export async function waitHealthy(
  probe: ProbeSpec,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await runProbe(probe, env);
    if (outcome.healthy) return outcome.detail;
    if (Date.now() >= deadline) {
      throw new TransientError(
        'HEALTH_TIMEOUT',
        `not healthy within ${timeoutMs} ms; last probe: ${outcome.detail}`,
        {
          hint: "check the workload's log in the site agent's dr/processes folder",
        },
      );
    }
    await sleep(PROBE_EVERY_MS);
  }
}

export interface StartInput {
  w: Assignment;
  epoch: number;
  target: RunTarget;
  extra: Record<string, string>;
  timeoutMs: number;
}

/** Real starts need this site to be the active one at the newest epoch; no start with a stale one. */
async function checkFencing(ctx: DrContext, input: StartInput): Promise<string> {
  const { w, epoch, target } = input;
  await ctx.fencing.check(w.name, epoch);
  if (target.mode === 'real') {
    const known = await ctx.fencing.get(w.name);
    const active = epoch === w.fencingEpoch ? w.activeSite : known?.epoch === epoch ? known.activeSite : null;
    if (active !== null && active !== ctx.site) {
      throw new ConflictError('NOT_ACTIVE', `${w.name} is active at ${active} at epoch ${epoch}, not here`, {
        hint: 'fail the workload over to this site first',
      });
    }
    await ctx.fencing.record(w.name, epoch, active);
  }
  return `epoch ${epoch} is current`;
}

export async function startCopy(
  ctx: DrContext,
  steps: Steps,
  input: StartInput,
): Promise<Record<string, unknown>> {
  const { w, epoch, target } = input;
  const s = spec(w);
  if (!s.start || !s.health)
    throw new BadInputError('NO_START_COMMAND', `${w.name} declares no start command or probe`);
  await steps.run('fencing', () => checkFencing(ctx, input));
  const id = processId(target.mode, w.name, target.runId);
  const env = { ...ctx.baseEnv, ...input.extra, ...drEnv(w.name, target, epoch) };
  let record: ProcessRecord | undefined;
  await steps.run('start', async () => {
    record = await ctx.processes.running(id);
    if (record) return `already running (pid ${record.pid})`;
    record = await ctx.processes.start(
      {
        id,
        workload: w.name,
        mode: target.mode,
        runId: target.runId,
        epoch,
        drEnv: drEnv(w.name, target, epoch),
      },
      s.start!,
      env,
    );
    return `started (pid ${record.pid}, process group of its own)`;
  });
  const probe = shiftedProbe(s.health, target.mode === 'test' ? target.portOffset : 0);
  await steps.run(`health ${probe.type}`, () => waitHealthy(probe, env, input.timeoutMs));
  return { healthyAt: new Date().toISOString(), pid: record?.pid };
}

/** Runs the stop command with the copy's environment; the group is made to go whatever it did. */
async function stopRecorded(
  ctx: DrContext,
  steps: Steps,
  w: Assignment,
  record: ProcessRecord,
  timeoutMs: number,
) {
  const command = spec(w).stop;
  if (command) {
    const env = { ...ctx.baseEnv, ...record.drEnv, OFFSITE_DR_PID: String(record.pid) };
    await steps.run('stop command', async () =>
      describeRun(await runShell(command, env, timeoutMs), timeoutMs),
    );
  }
  await steps.run('process group gone', async () => {
    if (await waitGone(record.pid, command ? EXIT_GRACE_MS : 0)) return `pid ${record.pid} exited`;
    if (await terminateGroup(record.pid, 5000)) return `pid ${record.pid} ended by signal`;
    throw new TransientError('STOP_FAILED', `process group ${record.pid} is still alive after SIGKILL`);
  });
  await ctx.processes.remove(record.id);
}

/**
 * Stops this site's copy. A real copy this agent did not start (started at boot, by
 * hand) is stopped by its stop command when its probe answers and `unrecorded` allows.
 * Returns whether something ran.
 */
export async function stopCopy(
  ctx: DrContext,
  steps: Steps,
  w: Assignment,
  target: Pick<RunTarget, 'mode' | 'runId'>,
  options: { timeoutMs: number; unrecorded: boolean },
): Promise<boolean> {
  const record = await ctx.processes.running(processId(target.mode, w.name, target.runId));
  if (record) {
    await stopRecorded(ctx, steps, w, record, options.timeoutMs);
    return true;
  }
  const s = spec(w);
  if (target.mode !== 'real' || !options.unrecorded || !s.stop || !s.health) return false;
  const outcome = await runProbe(s.health);
  if (!outcome.healthy) return false;
  const env = { ...ctx.baseEnv, ...drEnv(w.name, { mode: 'real', runId: null, root: '', portOffset: 0 }, 0) };
  await steps.run('stop command', async () =>
    describeRun(await runShell(s.stop!, env, options.timeoutMs), options.timeoutMs),
  );
  return true;
}

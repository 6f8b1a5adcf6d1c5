import { rm, stat } from 'node:fs/promises';
import { BadInputError, ConflictError, NotFoundError, TransientError } from '../../errors/index.ts';
import { materialise } from '../replication/index.ts';
import type { DrContext } from './context.ts';
import { checkRunId } from './layout.ts';
import {
  assigned,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  epochOf,
  spec,
  startCopy,
  stopCopy,
} from './lifecycle.ts';
import { type ProbeSpec, runProbe } from './probe.ts';
import { isAlive, processId } from './processes.ts';
import { describeRun, runShell } from './shell.ts';
import { errorDetail, type Step, StepFailed, Steps } from './steps.ts';
import { drEnv, extraEnv, portOffsetOf, type RunTarget, shiftedProbe } from './workload-env.ts';

// Running a command from the server (contract: /work/helpers/dr-commands.md). Each kind
// is idempotent: the server sends a command again when its result never arrived. The
// result lists the steps taken, each with its outcome; a failed step's detail starts with
// an UPPER_SNAKE code.

export type { Step } from './steps.ts';

/** A workload as the server assigns it to this site (the heartbeat's answer). */
export interface Assignment {
  name: string;
  version: number;
  role: 'primary' | 'replica';
  fencingEpoch: number;
  activeSite: string;
  primarySite: string;
  replicaSite: string;
  /** host:port of the other site's replication server, once it reported one. */
  peerAddress?: string | null;
  spec: { dataPaths?: string[]; health?: ProbeSpec } & Record<string, unknown>;
}

export interface Command {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
}

export interface CommandResult {
  state: 'succeeded' | 'failed';
  result: { steps: Step[] } & Record<string, unknown>;
}

type Payload = Record<string, unknown>;
type Kind = (
  p: Payload,
  w: readonly Assignment[],
  ctx: DrContext,
  steps: Steps,
) => Promise<Record<string, unknown>>;

const MAX_TIMEOUT_MS = 24 * 3_600_000;

function timeoutOf(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > MAX_TIMEOUT_MS)
    throw new BadInputError('BAD_TIMEOUT', 'timeoutMs must be a whole number of ms from 100 to 24 h');
  return value;
}

function modeOf(value: unknown): 'test' | 'real' {
  if (value === undefined || value === 'real') return 'real';
  if (value === 'test') return 'test';
  throw new BadInputError('BAD_MODE', 'mode must be test or real');
}

/** Where a copy runs: a test copy needs its run id (its folder and its port offset). */
async function targetOf(p: Payload, ctx: DrContext, workload: string): Promise<RunTarget> {
  const mode = modeOf(p.mode);
  if (mode === 'real') return { mode, runId: null, root: '', portOffset: 0 };
  const runId = checkRunId(p.runId);
  const recorded = await ctx.processes.get(processId('test', workload, runId));
  const offset = p.portOffset ?? (recorded ? Number(recorded.drEnv.OFFSITE_DR_PORT_OFFSET) : 0);
  return { mode, runId, root: ctx.layout.testCopy(runId, workload), portOffset: portOffsetOf(offset) };
}

const probe: Kind = async (p, workloads, ctx, steps) => {
  const w = assigned(workloads, p.workload);
  const health = spec(w).health;
  if (!health) throw new BadInputError('NO_HEALTH_PROBE', `${w.name} declares no health probe`);
  const target = await targetOf(p, ctx, w.name);
  const shifted = shiftedProbe(health, target.portOffset);
  const outcome = await runProbe(shifted, { ...ctx.baseEnv, ...drEnv(w.name, target, w.fencingEpoch) });
  steps.data = { workload: w.name, healthy: outcome.healthy };
  if (!outcome.healthy) steps.fail(`probe ${shifted.type}`, `UNHEALTHY: ${outcome.detail}`, outcome.ms);
  steps.list.push({ name: `probe ${shifted.type}`, ok: true, detail: outcome.detail, ms: outcome.ms });
  return { workload: w.name, healthy: true };
};

/**
 * The work goes on past the time-out (a cycle or a restore cannot be cut in half safely;
 * the next one joins or redoes it): the command reports TIMEOUT and the runner decides.
 */
async function within<R>(what: string, ms: number, work: Promise<R>): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransientError('TIMEOUT', `${what} did not finish within ${ms} ms`, {
            hint: 'send the command again: it joins or redoes the work',
          }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

const DEFAULT_DATA_TIMEOUT_MS = 30 * 60_000;

const replicateNow: Kind = async (p, workloads, ctx, steps) => {
  const w = assigned(workloads, p.workload);
  if (!ctx.replication) throw new NotFoundError('NOT_REPLICATING', 'replication is off in this site agent');
  const timeoutMs = timeoutOf(p.timeoutMs, DEFAULT_DATA_TIMEOUT_MS);
  let data: Record<string, unknown> = {};
  await steps.run('replicate', async () => {
    const { point } = await within('the replication cycle', timeoutMs, ctx.replication!.replicateNow(w.name));
    data = { pointId: point.id, pointTime: point.time, consistency: point.consistency };
    return `point ${point.id.slice(0, 12)} of ${point.time} (${point.bytesSent} bytes sent)`;
  });
  return data;
};

const stop: Kind = async (p, workloads, ctx, steps) => {
  const w = assigned(workloads, p.workload);
  const target = await targetOf(p, ctx, w.name);
  const timeoutMs = timeoutOf(p.timeoutMs, DEFAULT_STOP_TIMEOUT_MS);
  const ran = await stopCopy(ctx, steps, w, target, { timeoutMs, unrecorded: true });
  if (!ran) steps.list.push({ name: 'stop', ok: true, detail: 'not running here', ms: 0 });
  return { workload: w.name, stopped: true };
};

const fence: Kind = async (p, workloads, ctx, steps) => {
  const epoch = epochOf(p.epoch);
  let w = assigned(workloads, p.workload);
  if (typeof p.activeSite !== 'string' && w.fencingEpoch < epoch && ctx.refresh)
    w = assigned(await ctx.refresh(), p.workload);
  const active =
    typeof p.activeSite === 'string' ? p.activeSite : w.fencingEpoch === epoch ? w.activeSite : null;
  const prior = await ctx.fencing.get(w.name);
  let entry = prior;
  await steps.run('record epoch', async () => {
    entry = await ctx.fencing.record(w.name, epoch, active);
    return `newest known epoch ${entry.epoch}, active at ${entry.activeSite ?? 'an unknown site'}`;
  });
  const activeHere = entry?.activeSite === ctx.site;
  if (!activeHere) {
    const timeoutMs = timeoutOf(p.timeoutMs, DEFAULT_STOP_TIMEOUT_MS);
    const ran = await stopCopy(
      ctx,
      steps,
      w,
      { mode: 'real', runId: null },
      { timeoutMs, unrecorded: prior?.activeSite === ctx.site },
    );
    if (!ran) steps.list.push({ name: 'stop', ok: true, detail: 'no copy runs here', ms: 0 });
  }
  return { workload: w.name, epoch: entry?.epoch ?? epoch, active: activeHere };
};

/**
 * A real materialise overwrites the workload's own paths: only at the site that is active
 * (fenced to it first), and never under a running copy.
 */
async function mayOverwrite(ctx: DrContext, assignment: Assignment): Promise<string> {
  let w = assignment;
  const known = await ctx.fencing.get(w.name);
  const activeOf = (x: Assignment) =>
    known && known.epoch > x.fencingEpoch ? known.activeSite : x.activeSite;
  // An unplanned failover fences on the server and sends no fence here: the workloads this
  // agent holds may predate it (last heartbeat), so it asks the server before refusing.
  if (activeOf(w) !== ctx.site && ctx.refresh) w = assigned(await ctx.refresh(), w.name);
  const active = activeOf(w);
  if (active !== ctx.site) {
    throw new ConflictError('NOT_ACTIVE', `${w.name} is active at ${active ?? 'another site'}, not here`, {
      hint: 'fence the workload to this site before materialising into its own paths',
    });
  }
  if (await ctx.processes.running(processId('real', w.name, null))) {
    throw new ConflictError(
      'WORKLOAD_RUNNING',
      `${w.name} runs here; stop it before materialising into its paths`,
    );
  }
  return `active here at epoch ${Math.max(known?.epoch ?? 0, w.fencingEpoch)}, not running`;
}

const materialiseKind: Kind = async (p, workloads, ctx, steps) => {
  const w = assigned(workloads, p.workload);
  const target = await targetOf({ ...p, mode: p.mode ?? 'test' }, ctx, w.name);
  const point = p.point ?? 'latest';
  if (typeof point !== 'string')
    throw new BadInputError('BAD_POINT', 'point must be latest, latest-consistent or an ISO time');
  if (target.mode === 'real') await steps.run('may overwrite', () => mayOverwrite(ctx, w));
  const timeoutMs = timeoutOf(p.timeoutMs, DEFAULT_DATA_TIMEOUT_MS);
  let data: Record<string, unknown> = {};
  await steps.run(`materialise ${point}`, async () => {
    const done = await within(
      'materialising',
      timeoutMs,
      materialise({
        root: ctx.layout.replicaRoot,
        workload: w.name,
        point,
        target: target.mode === 'test' ? target.root : '/',
      }),
    );
    data = {
      pointId: done.point.id,
      pointTime: done.point.time,
      consistency: done.point.consistency,
      paths: done.paths,
    };
    return `point ${done.point.id.slice(0, 12)} of ${done.point.time}: ${done.files} files, ${done.bytes} bytes, verified`;
  });
  return data;
};

const start: Kind = async (p, workloads, ctx, steps) => {
  const w = assigned(workloads, p.workload);
  const target = await targetOf(p, ctx, w.name);
  const input = {
    w,
    epoch: epochOf(p.epoch),
    target,
    extra: extraEnv(p.env),
    timeoutMs: timeoutOf(p.timeoutMs, DEFAULT_START_TIMEOUT_MS),
  };
  return { workload: w.name, ...(await startCopy(ctx, steps, input)) };
};

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const cleanupTest: Kind = async (p, workloads, ctx, steps) => {
  const runId = checkRunId(p.runId);
  const records = (await ctx.processes.list()).filter((r) => r.mode === 'test' && r.runId === runId);
  for (const record of records) {
    const w =
      workloads.find((x) => x.name === record.workload) ??
      ({ name: record.workload, spec: {} } as Assignment);
    await stopCopy(
      ctx,
      steps,
      w,
      { mode: 'test', runId },
      { timeoutMs: timeoutOf(p.timeoutMs, DEFAULT_STOP_TIMEOUT_MS), unrecorded: false },
    );
  }
  const folder = ctx.layout.testRun(runId);
  await steps.run('remove folder', async () => {
    await rm(folder, { recursive: true, force: true });
    return `removed ${folder}`;
  });
  const leftovers: string[] = [];
  await steps.run('nothing left', async () => {
    for (const record of records)
      if (await isAlive(record)) leftovers.push(`process group ${record.pid} of ${record.workload}`);
    if (await exists(folder)) leftovers.push(folder);
    if (leftovers.length > 0)
      throw new BadInputError('LEFTOVERS', `left after cleanup: ${leftovers.join(', ')}`);
    return `${records.length} processes ended, folder gone`;
  });
  return { runId, leftovers };
};

const script: Kind = async (p, _w, ctx, steps) => {
  if (typeof p.command !== 'string' || p.command.length === 0 || p.command.length > 16_384)
    throw new BadInputError('BAD_COMMAND', 'command must be a shell command of at most 16 KiB');
  const timeoutMs = timeoutOf(p.timeoutMs, DEFAULT_STOP_TIMEOUT_MS);
  const run = await runShell(p.command, { ...ctx.baseEnv, ...extraEnv(p.env) }, timeoutMs);
  // The command line itself is never echoed: it may hold a secret.
  const data = { exitCode: run.code, output: run.tail };
  if (run.code !== 0)
    steps.fail('script', `SCRIPT_FAILED: the script ${describeRun(run, timeoutMs)}`, run.ms);
  steps.list.push({ name: 'script', ok: true, detail: 'exited 0', ms: run.ms });
  return data;
};

const noop: Kind = async (_p, _w, _ctx, steps) => {
  steps.list.push({ name: 'noop', ok: true, detail: 'nothing to do', ms: 0 });
  return {};
};

const KINDS: Record<string, Kind> = {
  noop,
  probe,
  'replicate-now': replicateNow,
  stop,
  fence,
  materialise: materialiseKind,
  start,
  'cleanup-test': cleanupTest,
  script,
};

/** Without a DR context (no site agent folder), only noop and probe run. */
export async function executeCommand(
  command: Command,
  workloads: readonly Assignment[],
  ctx?: DrContext,
): Promise<CommandResult> {
  const steps = new Steps();
  const kind = Object.hasOwn(KINDS, command.kind) ? KINDS[command.kind] : undefined;
  if (!kind || (!ctx && command.kind !== 'noop' && command.kind !== 'probe')) {
    const detail = `UNKNOWN_KIND: this site agent does not run commands of kind "${command.kind.slice(0, 40)}"; upgrade it`;
    return {
      state: 'failed',
      result: { steps: [{ name: command.kind.slice(0, 40), ok: false, detail, ms: 0 }] },
    };
  }
  const context = ctx ?? ({ baseEnv: process.env } as DrContext);
  try {
    const data = await kind(command.payload ?? {}, workloads, context, steps);
    return { state: 'succeeded', result: { ...steps.data, ...data, steps: steps.list } };
  } catch (err) {
    if (!(err instanceof StepFailed))
      steps.list.push({ name: command.kind, ok: false, detail: errorDetail(err), ms: 0 });
    return { state: 'failed', result: { ...steps.data, steps: steps.list } };
  }
}

import { isOffsiteError } from '../../../errors/index.ts';
import type { Catalog, CommandRow, JsonObject, JsonValue, RunRow, RunStepRow } from '../../catalog/index.ts';

// One step of a run, advanced once: a pending step begins (queues its command to a site
// agent, bumps a fencing epoch, starts waiting) and a running one is checked (its
// command's result, a time-out, a delay's end). Each change is made from the state the
// step was read in (STEP_CHANGED otherwise), and a command is queued in the same catalog
// transaction that records it on the step: a server stopped at any moment resumes
// without doing a step twice. Site agents run every command kind idempotently too.

/** Time a site agent is given beyond a time-out it enforces itself (polling, reporting). */
const GRACE_MS = 2 * 60_000;

function num(params: JsonObject, key: string): number {
  const value = params[key];
  return typeof value === 'number' ? value : 0;
}

function str(params: JsonObject, key: string): string {
  const value = params[key];
  return typeof value === 'string' ? value : '';
}

function ms(n: number): string {
  return n >= 60_000 ? `${Math.round(n / 60_000)} min` : `${Math.round(n / 1000)} s`;
}

async function finish(
  catalog: Catalog,
  step: RunStepRow,
  state: 'succeeded' | 'failed',
  detail: string,
  now: number,
  result?: JsonObject,
): Promise<void> {
  await catalog.updateRunStep(step.runId, step.seq, {
    expectState: step.state,
    state,
    finishedAt: now,
    detail,
    ...(result === undefined ? {} : { result }),
  });
}

/** Queues the command and marks the step running with it, in one transaction. */
async function queue(
  catalog: Catalog,
  step: RunStepRow,
  kind: string,
  payload: JsonObject,
  now: number,
): Promise<void> {
  await catalog.transaction(async (tx) => {
    const command = await tx.queueCommand({ siteId: step.siteId!, kind, payload, createdAt: now });
    await tx.updateRunStep(step.runId, step.seq, {
      expectState: 'pending',
      state: 'running',
      commandId: command.id,
      startedAt: now,
      detail: `${kind} queued for the site agent`,
    });
  });
}

/** The bump of the epoch and the fence command to the source, in one transaction. */
async function fence(catalog: Catalog, run: RunRow, step: RunStepRow, now: number): Promise<void> {
  const source = await catalog.getSite(step.siteId!);
  await catalog.transaction(async (tx) => {
    const fencing = await tx.advanceFencing(step.workloadId!, str(step.params, 'targetSiteId'), now);
    const payload = { workload: str(step.params, 'workload'), epoch: fencing.epoch };
    // A deleted source has no agent left to tell; its certificate opens nothing any more.
    const command =
      source.deletedAt === null
        ? await tx.queueCommand({ siteId: source.id, kind: 'fence', payload, createdAt: now })
        : undefined;
    // Unplanned: the source may be gone; it learns the epoch when it returns (command or heartbeat).
    const waits = run.type === 'planned' && command !== undefined;
    await tx.updateRunStep(step.runId, step.seq, {
      expectState: 'pending',
      state: waits ? 'running' : 'succeeded',
      startedAt: now,
      ...(waits ? {} : { finishedAt: now }),
      ...(command ? { commandId: command.id } : {}),
      detail: `epoch ${fencing.epoch} now held by the target${waits ? '; waiting for the source to fence' : ''}`,
      result: { epoch: fencing.epoch, fencedAt: new Date(now).toISOString() },
    });
  });
}

async function begin(catalog: Catalog, run: RunRow, step: RunStepRow, now: number): Promise<void> {
  const p = step.params;
  const workload = str(p, 'workload');
  const epoch = async () => (await catalog.getFencing(step.workloadId!)).epoch;
  const test = run.type === 'test';
  switch (step.kind) {
    case 'manual':
    case 'delay':
      await catalog.updateRunStep(step.runId, step.seq, {
        expectState: 'pending',
        state: 'running',
        startedAt: now,
        detail:
          step.kind === 'manual'
            ? `waiting for \`offsite dr confirm ${run.id} ${step.name}\`: ${str(p, 'message')}`
            : `waiting ${ms(num(p, 'durationMs'))}`,
      });
      return;
    case 'script':
      return queue(
        catalog,
        step,
        'script',
        { command: str(p, 'command'), timeoutMs: num(p, 'timeoutMs') },
        now,
      );
    case 'stop':
      return queue(catalog, step, 'stop', { workload, epoch: await epoch() }, now);
    case 'replicate-now':
      return queue(catalog, step, 'replicate-now', { workload }, now);
    case 'fence':
      return fence(catalog, run, step, now);
    case 'materialise':
      return queue(
        catalog,
        step,
        'materialise',
        { workload, point: str(p, 'point'), mode: str(p, 'mode'), runId: run.id },
        now,
      );
    case 'start':
      return queue(
        catalog,
        step,
        'start',
        {
          workload,
          epoch: await epoch(),
          mode: str(p, 'mode'),
          runId: run.id,
          portOffset: test ? run.portOffset : 0,
        },
        now,
      );
    case 'probe':
      return queue(catalog, step, 'probe', { workload, mode: str(p, 'mode'), runId: run.id }, now);
    case 'cleanup-test':
      return queue(catalog, step, 'cleanup-test', { runId: run.id }, now);
  }
}

/** The first failed step the agent reported, e.g. "FENCED: epoch 3 is older than 4". */
function failureDetail(command: CommandRow): string {
  const steps = command.result?.steps;
  if (Array.isArray(steps)) {
    const failed = steps.find((s) => typeof s === 'object' && s !== null && (s as JsonObject).ok === false) as
      | JsonObject
      | undefined;
    if (failed) return `${str(failed, 'name') || command.kind}: ${str(failed, 'detail') || 'failed'}`;
  }
  const error = command.result?.error;
  return typeof error === 'string' ? error : `${command.kind} failed at the site`;
}

/** What a succeeded command's data says against the step succeeding; undefined when nothing. */
function problemIn(step: RunStepRow, data: JsonObject): string | undefined {
  if (step.kind === 'probe' && data.healthy !== true) return 'UNHEALTHY: the health check did not pass';
  if (step.kind === 'cleanup-test') {
    const left = data.leftovers;
    if (!Array.isArray(left)) return 'CLEANUP_UNCHECKED: the site reported no leftovers list';
    if (left.length > 0) return `LEFTOVERS: ${left.map((l: JsonValue) => String(l)).join(', ')}`;
  }
  if (step.kind === 'script' && typeof data.exitCode === 'number' && data.exitCode !== 0)
    return `SCRIPT_FAILED: exit code ${data.exitCode}`;
  return undefined;
}

function deadline(step: RunStepRow): number {
  const timeout = num(step.params, 'timeoutMs');
  const ownLimit = step.kind === 'script';
  return (step.startedAt ?? 0) + timeout + (ownLimit ? GRACE_MS : 0);
}

async function checkCommand(catalog: Catalog, step: RunStepRow, now: number): Promise<void> {
  const command = await catalog.getCommand(step.commandId!);
  const site = (await catalog.getSite(command.siteId)).name;
  if (command.state === 'succeeded') {
    const data = { ...(step.result ?? {}), ...(command.result ?? {}) };
    delete data.steps;
    const problem = problemIn(step, data);
    if (problem) return finish(catalog, step, 'failed', `${problem} (site ${site})`, now, data);
    return finish(catalog, step, 'succeeded', `${command.kind} done at ${site}`, now, data);
  }
  if (command.state === 'failed')
    return finish(catalog, step, 'failed', `${failureDetail(command)} (site ${site})`, now);
  if (now > deadline(step)) {
    const waited = ms(now - (step.startedAt ?? now));
    return finish(catalog, step, 'failed', `TIMEOUT: no result from the site ${site} after ${waited}`, now);
  }
}

async function check(catalog: Catalog, step: RunStepRow, now: number): Promise<void> {
  const started = step.startedAt ?? now;
  if (step.kind === 'delay') {
    if (now >= started + num(step.params, 'durationMs'))
      await finish(catalog, step, 'succeeded', 'waited', now);
    return;
  }
  if (step.kind === 'manual') {
    if (now > started + num(step.params, 'timeoutMs'))
      await finish(
        catalog,
        step,
        'failed',
        `TIMEOUT: not confirmed within ${ms(num(step.params, 'timeoutMs'))}`,
        now,
      );
    return;
  }
  if (step.commandId !== null) await checkCommand(catalog, step, now);
}

/** Advances the step once; true when it (or another writer) changed it. */
export async function advanceStep(
  catalog: Catalog,
  run: RunRow,
  step: RunStepRow,
  now: number,
): Promise<boolean> {
  try {
    if (step.state === 'pending') await begin(catalog, run, step, now);
    else await check(catalog, step, now);
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'STEP_CHANGED') return true;
    if (isOffsiteError(err) && err.kind === 'transient') throw err;
    if (!isOffsiteError(err)) throw err;
    // A refusal (a deleted site, a workload gone): the step fails, the run goes on or stops by its policy.
    await finish(catalog, step, 'failed', `${err.code}: ${err.message}`, now);
    return true;
  }
  const after = (await catalog.listRunSteps(run.id)).find((s) => s.seq === step.seq);
  return after?.state !== step.state;
}

import type { Assignment } from './commands.ts';
import type { DrContext } from './context.ts';
import { DEFAULT_STOP_TIMEOUT_MS, stopCopy } from './lifecycle.ts';
import { errorDetail, StepFailed, Steps } from './steps.ts';

// The returning old primary: every heartbeat answer's fencing epoch is recorded, and when
// it shows a newer epoch at which another site is active, this site stops its own real
// copy by itself — the one it started (recorded), or, when this site was the active one
// before, whatever answers the workload's probe here (started at boot, by hand). Until
// the stop worked the site keeps its old "active" mark so the next heartbeat tries again;
// the epoch itself is recorded at once, so no stale start gets through meanwhile.

export async function fenceFromHeartbeat(
  ctx: DrContext,
  w: Assignment,
  log: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  const prior = await ctx.fencing.get(w.name);
  if (prior && prior.epoch > w.fencingEpoch) return; // the server's answer is older than a fence we got
  if (w.activeSite === ctx.site) {
    await ctx.fencing.record(w.name, w.fencingEpoch, w.activeSite);
    return;
  }
  const wasActive = prior?.activeSite === ctx.site;
  await ctx.fencing.record(w.name, w.fencingEpoch, wasActive ? ctx.site : w.activeSite);
  const steps = new Steps();
  try {
    const ran = await stopCopy(
      ctx,
      steps,
      w,
      { mode: 'real', runId: null },
      {
        timeoutMs: DEFAULT_STOP_TIMEOUT_MS,
        unrecorded: wasActive,
      },
    );
    if (ran)
      log('fenced: stopped the local copy', {
        workload: w.name,
        epoch: w.fencingEpoch,
        active: w.activeSite,
        steps: steps.list,
      });
    await ctx.fencing.record(w.name, w.fencingEpoch, w.activeSite);
  } catch (err) {
    const detail = err instanceof StepFailed ? steps.list.at(-1)?.detail : errorDetail(err);
    log('fenced: stopping the local copy failed; trying again at the next heartbeat', {
      level: 'warn',
      workload: w.name,
      error: detail,
    });
  }
}

import type { AutoFailoverSpec } from './plan-option.ts';

// The automatic failover decision, pure: given what the server and the witnesses know
// (all times on the server's clock) and the time, fail over, hold back (and say why), or
// do nothing. Evidence is gathered by ./evidence.ts, acted on by ./task.ts.
//
// A witness agrees the watched site is down when its own last report says it had not
// heard the site for longer than afterSilence. It still hears the site when it heard it
// well after the server last did (by half the threshold: an outage seen by both is at
// most a heartbeat apart). In between, its evidence is not in yet: wait.

export interface WitnessView {
  /** 'replica' or 'site:<name>'. */
  witness: string;
  /** The witness's site; null when the plan names a site that does not exist. */
  site: string | null;
  /** When the server last heard the witness's report; null: never. */
  reportedAt: number | null;
  /** When the witness last heard the watched site (its report's age subtracted); null: it does not watch it. */
  lastHeardAt: number | null;
}

export interface Evidence {
  now: number;
  option: AutoFailoverSpec;
  /** The site the plan's workloads are active at (split: the one silent longest), and when the server last heard it. */
  watched: { site: string; lastHeardAt: number };
  /** Every workload active at its configured primary, replicating to one replica site. */
  protectedState: 'protected' | 'failed-over' | 'split';
  /** A run of the plan (or holding one of its workloads) still going. */
  runInProgress: string | null;
  /** An unplanned run of the plan started since the watched site was last heard: this outage's. */
  outageRun: string | null;
  witnesses: WitnessView[];
}

export type WithholdReason =
  | 'WITNESS_HEARS_SITE'
  | 'WITNESS_UNAVAILABLE'
  | 'NOT_PROTECTED'
  | 'PLAN_SPLIT'
  | 'RUN_IN_PROGRESS';

export type WitnessVerdict = 'agrees' | 'hears' | 'pending' | 'unavailable';

export type Decision =
  | { action: 'none'; why: 'site-heard' | 'outage-handled' | 'evidence-pending' }
  | { action: 'withhold'; reason: WithholdReason; message: string; witness?: string }
  | { action: 'fail-over'; outageSince: number };

/** How recently the server must have heard a witness for its word to count. */
export function witnessFreshMs(option: AutoFailoverSpec): number {
  return Math.floor(option.afterSilenceMs / 2);
}

export function witnessVerdict(view: WitnessView, siteLastHeardAt: number, e: Evidence): WitnessVerdict {
  const limit = e.option.afterSilenceMs;
  if (view.site === null || view.reportedAt === null || view.lastHeardAt === null) return 'unavailable';
  if (e.now - view.reportedAt > witnessFreshMs(e.option)) return 'unavailable';
  if (view.reportedAt - view.lastHeardAt > limit) return 'agrees';
  if (view.lastHeardAt - siteLastHeardAt > limit / 2) return 'hears';
  return 'pending';
}

function describe(view: WitnessView): string {
  return view.site === null ? `${view.witness} (no such site)` : `${view.witness} (${view.site})`;
}

function fromWitnesses(e: Evidence, watched: { site: string; lastHeardAt: number }): Decision {
  const verdicts = e.witnesses.map((w) => ({ w, verdict: witnessVerdict(w, watched.lastHeardAt, e) }));
  const hears = verdicts.find((v) => v.verdict === 'hears');
  if (hears) {
    return {
      action: 'withhold',
      reason: 'WITNESS_HEARS_SITE',
      witness: hears.w.witness,
      message: `the witness ${describe(hears.w)} still hears site "${watched.site}": only the server lost it`,
    };
  }
  const gone = verdicts.find((v) => v.verdict === 'unavailable');
  if (gone) {
    return {
      action: 'withhold',
      reason: 'WITNESS_UNAVAILABLE',
      witness: gone.w.witness,
      message: `the witness ${describe(gone.w)} has no recent word on site "${watched.site}"`,
    };
  }
  if (verdicts.some((v) => v.verdict === 'pending')) return { action: 'none', why: 'evidence-pending' };
  return { action: 'fail-over', outageSince: watched.lastHeardAt };
}

export function decide(e: Evidence): Decision {
  const { watched } = e;
  if (e.now - watched.lastHeardAt <= e.option.afterSilenceMs) return { action: 'none', why: 'site-heard' };
  if (e.protectedState === 'split') {
    return {
      action: 'withhold',
      reason: 'PLAN_SPLIT',
      message: 'the plan’s workloads are not all active at one site replicating to one other',
    };
  }
  if (e.outageRun !== null) return { action: 'none', why: 'outage-handled' };
  if (e.protectedState === 'failed-over') {
    return {
      action: 'withhold',
      reason: 'NOT_PROTECTED',
      message: `site "${watched.site}" runs the plan after a failover, with no replica until a reprotect`,
    };
  }
  if (e.runInProgress !== null) {
    return {
      action: 'withhold',
      reason: 'RUN_IN_PROGRESS',
      message: `the run ${e.runInProgress} holds the plan’s workloads`,
    };
  }
  return fromWitnesses(e, watched);
}

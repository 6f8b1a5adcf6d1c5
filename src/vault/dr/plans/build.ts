import { BadInputError } from '../../../errors/index.ts';
import type { NewRunStep, RunType, SiteRow, WorkloadRow } from '../../catalog/index.ts';
import type { ActionSpec, PlanSpec } from './plan-file.ts';

// The steps of a run, built once when it starts and kept in the catalog: the runner
// only walks them. Stages run one after the other; in a stage, lanes run side by side
// and a lane's steps one after the other (one lane per workload, one per action list).
//
//   planned:    stop (groups in reverse order) → replicate-now → fence → groups
//   unplanned:  fence → groups
//   test:       groups
//   a group:    pre actions → materialise, start, health of its workloads → post actions

const MINUTE = 60_000;
/** How long the server waits for a site agent's result of each workload step. */
export const STEP_TIMEOUT_MS = {
  stop: 10 * MINUTE,
  'replicate-now': 30 * MINUTE,
  fence: 5 * MINUTE,
  materialise: 120 * MINUTE,
  start: 10 * MINUTE,
  probe: 5 * MINUTE,
  'cleanup-test': 10 * MINUTE,
} as const;

/** Where a workload fails over from and to: from the site holding its epoch to the other. */
export interface Direction {
  workload: WorkloadRow;
  sourceSiteId: string;
  targetSiteId: string;
}

class Steps {
  readonly list: NewRunStep[] = [];
  stage = 0;

  add(step: Omit<NewRunStep, 'stage' | 'phase' | 'state' | 'onError'> & Partial<NewRunStep>): void {
    this.list.push({ phase: 'failover', state: 'pending', onError: 'fail', ...step, stage: this.stage });
  }

  next(): void {
    this.stage++;
  }
}

function workloadStep(
  s: Steps,
  kind: 'stop' | 'replicate-now' | 'fence' | 'materialise' | 'start' | 'probe',
  label: string,
  d: Direction,
  params: Record<string, string | number>,
): void {
  const name = d.workload.name;
  const onSource = kind === 'stop' || kind === 'replicate-now' || kind === 'fence';
  s.add({
    name: `${label}/${name}`,
    lane: name,
    kind,
    workloadId: d.workload.id,
    siteId: onSource ? d.sourceSiteId : d.targetSiteId,
    params: { workload: name, timeoutMs: STEP_TIMEOUT_MS[kind], ...params },
  });
}

function actionSteps(
  s: Steps,
  lane: string,
  actions: ActionSpec[],
  type: RunType,
  sites: Map<string, SiteRow>,
) {
  if (actions.length === 0) return;
  for (const a of actions) {
    const site = a.site === null ? undefined : sites.get(a.site);
    if (a.site !== null && !site) {
      throw new BadInputError(
        'PLAN_SITE_MISSING',
        `the action "${a.name}" runs at the site "${a.site}", which is gone`,
        {
          hint: 'create the site again, or change the plan with `offsite dr plan apply`',
        },
      );
    }
    const params = {
      onlyFor: a.onlyFor,
      ...(a.command === null ? {} : { command: a.command }),
      ...(a.message === null ? {} : { message: a.message }),
      ...(a.durationMs === null ? {} : { durationMs: a.durationMs }),
      ...(a.timeoutMs === null ? {} : { timeoutMs: a.timeoutMs }),
    };
    s.add({
      name: a.name,
      lane,
      kind: a.type,
      workloadId: null,
      siteId: site?.id ?? null,
      params,
      onError: a.onError,
      state: a.onlyFor.includes(type) ? 'pending' : 'skipped',
    });
  }
  s.next();
}

export function buildRunSteps(
  spec: PlanSpec,
  type: RunType,
  point: string,
  directions: ReadonlyMap<string, Direction>,
  sites: Map<string, SiteRow>,
): NewRunStep[] {
  const s = new Steps();
  const of = (names: string[]) => names.map((n) => directions.get(n)!);
  const all = of(spec.groups.flatMap((g) => g.workloads));
  if (type === 'planned') {
    for (const group of [...spec.groups].reverse()) {
      for (const d of of(group.workloads)) workloadStep(s, 'stop', 'stop', d, {});
      s.next();
    }
    for (const d of all) workloadStep(s, 'replicate-now', 'sync', d, {});
    s.next();
  }
  if (type !== 'test') {
    for (const d of all) workloadStep(s, 'fence', 'fence', d, { targetSiteId: d.targetSiteId });
    s.next();
  }
  const mode = type === 'test' ? 'test' : 'real';
  for (const group of spec.groups) {
    actionSteps(s, `${group.name}/pre`, group.pre, type, sites);
    for (const d of of(group.workloads)) {
      workloadStep(s, 'materialise', 'materialise', d, { point, mode });
      workloadStep(s, 'start', 'start', d, { mode });
      workloadStep(s, 'probe', 'health', d, { mode });
    }
    s.next();
    actionSteps(s, `${group.name}/post`, group.post, type, sites);
  }
  return s.list;
}

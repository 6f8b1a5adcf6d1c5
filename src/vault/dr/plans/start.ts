import { BadInputError, ConflictError } from '../../../errors/index.ts';
import {
  type Catalog,
  type PlanRow,
  RUN_TYPES,
  type RunRow,
  type RunType,
  type SiteRow,
} from '../../catalog/index.ts';
import { buildRunSteps, type Direction } from './build.ts';
import type { PlanSpec } from './plan-file.ts';

// Starting a failover of a plan: each workload goes from the site holding its fencing
// epoch (the source) to its other site (the target). The steps are built now, from the
// plan as it is now; the runner (./runner.ts) takes it from there.

export const DEFAULT_PORT_OFFSET = 10_000;
const MAX_PORT_OFFSET = 50_000;

export interface FailoverRequest {
  type: RunType;
  /** latest | latest-consistent | an ISO time; planned failovers take the last changes ('latest'). */
  point: string;
  portOffset: number;
  failback: boolean;
  startedBy: string;
}

function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

/** The checked {type, point, portOffset} of a failover request body. */
export function checkFailoverBody(body: unknown): Omit<FailoverRequest, 'failback' | 'startedBy'> {
  const f = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (!RUN_TYPES.includes(f.type as RunType)) throw bad('type', `must be one of ${RUN_TYPES.join(', ')}`);
  const type = f.type as RunType;
  const point = f.point ?? 'latest';
  let normal: string;
  if (point === 'latest' || point === 'latest-consistent') normal = point;
  else if (typeof point === 'string' && !Number.isNaN(Date.parse(point)) && /^\d{4}-\d\d-\d\d/.test(point))
    normal = new Date(Date.parse(point)).toISOString();
  else throw bad('point', 'must be latest, latest-consistent or an ISO 8601 time');
  if (type === 'planned' && normal !== 'latest') {
    throw bad('point', 'a planned failover syncs the last changes first: it always uses the latest point');
  }
  const offset = f.portOffset ?? DEFAULT_PORT_OFFSET;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 1 || offset > MAX_PORT_OFFSET)
    throw bad('portOffset', `must be a whole number from 1 to ${MAX_PORT_OFFSET}`);
  return { type, point: normal, portOffset: type === 'test' ? offset : 0 };
}

async function directions(catalog: Catalog, plan: PlanRow, spec: PlanSpec): Promise<Map<string, Direction>> {
  const result = new Map<string, Direction>();
  for (const name of spec.groups.flatMap((g) => g.workloads)) {
    const workload = await catalog.getWorkloadByName(name);
    if (workload.vaultId !== plan.vaultId) {
      throw new ConflictError(
        'PLAN_WORKLOAD_MOVED',
        `the workload "${name}" is no longer in the plan's vault`,
      );
    }
    const fencing = await catalog.getFencing(workload.id);
    const target =
      fencing.activeSiteId === workload.primarySiteId ? workload.replicaSiteId : workload.primarySiteId;
    result.set(name, { workload, sourceSiteId: fencing.activeSiteId, targetSiteId: target });
  }
  return result;
}

export async function startFailover(
  catalog: Catalog,
  plan: PlanRow,
  request: FailoverRequest,
  now: number,
): Promise<RunRow> {
  const spec = plan.spec as unknown as PlanSpec;
  const sites = new Map<string, SiteRow>(
    (await catalog.listSites({ vaultId: plan.vaultId })).map((s) => [s.name, s]),
  );
  const steps = buildRunSteps(
    spec,
    request.type,
    request.point,
    await directions(catalog, plan, spec),
    sites,
  );
  return catalog.createRun({
    planId: plan.id,
    planVersion: plan.version,
    type: request.type,
    failback: request.failback,
    point: request.point,
    portOffset: request.portOffset,
    startedBy: request.startedBy,
    startedAt: now,
    steps,
  });
}

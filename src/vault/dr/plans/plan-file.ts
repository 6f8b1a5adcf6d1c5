import { RUN_TYPES, type RunType } from '../../catalog/index.ts';
import { type AutoFailoverSpec, checkAutoFailoverOption } from '../auto/plan-option.ts';
import { DocumentError, FieldChecker, type Fields, readYaml } from '../document.ts';

// Recovery plans declared in YAML (DESIGN.md §6): what `offsite dr plan apply FILE` reads
// and `PUT /v1/dr/plans` checks again. Every broken rule is reported at once, with the
// path to the field, and nothing is applied while one remains.
//
//   plans:
//     - name: shop
//       groups:                       # in order; a group starts when the one before is healthy
//         - name: data
//           workloads: [orders-db]    # started side by side
//           post:
//             - { type: manual, name: check-db, message: "look at the orders", timeout: 1h }
//         - name: apps
//           workloads: [orders-api, front]
//           pre:
//             - { type: script, site: dc2, command: ./dns-switch.sh, onlyFor: [planned, unplanned] }
//             - { type: delay, duration: 30s, onError: continue }

export const ACTION_TYPES = ['script', 'manual', 'delay'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface ActionSpec {
  name: string;
  type: ActionType;
  /** The failover types it runs for; skipped for the others. */
  onlyFor: RunType[];
  onError: 'fail' | 'continue';
  /** script: its site's agent gives up after it; manual: unconfirmed after it fails. */
  timeoutMs: number | null;
  site: string | null;
  command: string | null;
  message: string | null;
  durationMs: number | null;
}

export interface GroupSpec {
  name: string;
  workloads: string[];
  pre: ActionSpec[];
  post: ActionSpec[];
}

export interface PlanSpec {
  name: string;
  description: string | null;
  groups: GroupSpec[];
  /** Opt-in automatic failover (../auto); absent when the file leaves it out. */
  autoFailover?: AutoFailoverSpec;
}

const MAX_GROUPS = 50;
const MAX_ACTIONS = 20;
const MAX_TEXT = 4000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LIMITS = {
  script: { default: 10 * MINUTE, min: 1000, max: 24 * HOUR, rule: '1s to 24h' },
  manual: { default: 24 * HOUR, min: MINUTE, max: 7 * 24 * HOUR, rule: '1m to 168h' },
  delay: { default: 0, min: 1000, max: 24 * HOUR, rule: '1s to 24h' },
} as const;
const ACTION_FIELDS = {
  script: ['type', 'name', 'site', 'command', 'timeout', 'onlyFor', 'onError'],
  manual: ['type', 'name', 'message', 'timeout', 'onlyFor', 'onError'],
  delay: ['type', 'name', 'duration', 'onlyFor', 'onError'],
} as const;

/** Every problem of a plan file, one "path: what is wrong" line each. */
export class PlanFileError extends DocumentError {
  constructor(problems: readonly string[]) {
    super('BAD_PLAN_FILE', 'plan file', problems);
  }
}

class Checker extends FieldChecker {
  constructor() {
    super(MAX_TEXT);
  }

  list(path: string, value: unknown, max: number, optional: boolean): unknown[] | undefined {
    if (value === undefined && optional) return [];
    if (!Array.isArray(value) || (!optional && value.length === 0) || value.length > max) {
      return this.fail(path, `must be a list of ${optional ? 0 : 1} to ${max} entries`);
    }
    return value;
  }
}

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT = { ms: 1, s: 1000, m: MINUTE, h: HOUR } as const;

/** A duration like 500ms, 30s, 5m, 2h, within limits. */
function duration(
  c: Checker,
  path: string,
  value: unknown,
  limits: { min: number; max: number; rule: string },
) {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  const ms = match ? Number(match[1]) * UNIT[match[2] as keyof typeof UNIT] : 0;
  if (ms < limits.min || ms > limits.max)
    return c.fail(path, `must be a duration from ${limits.rule}, e.g. 30s, 5m, 2h`);
  return ms;
}

function onlyFor(c: Checker, path: string, value: unknown): RunType[] | undefined {
  if (value === undefined) return [...RUN_TYPES];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((v) => !RUN_TYPES.includes(v as RunType)) ||
    new Set(value).size !== value.length
  ) {
    return c.fail(path, `must be a list of one or more of ${RUN_TYPES.join(', ')}, each once`);
  }
  return value as RunType[];
}

function action(c: Checker, path: string, value: unknown, defaultName: string): ActionSpec | undefined {
  const type = (value as Fields | null)?.type;
  if (!ACTION_TYPES.includes(type as ActionType)) {
    if (typeof value !== 'object' || value === null) return c.fail(path, 'must be a mapping with a type');
    return c.fail(`${path}.type`, `must be one of ${ACTION_TYPES.join(', ')}`);
  }
  const t = type as ActionType;
  const fields = c.object(path, value, ACTION_FIELDS[t])!;
  const onError = fields.onError ?? 'fail';
  if (onError !== 'fail' && onError !== 'continue') c.fail(`${path}.onError`, 'must be fail or continue');
  const spec = {
    name: c.name(`${path}.name`, fields.name ?? defaultName, 'an action name is'),
    type: t,
    onlyFor: onlyFor(c, `${path}.onlyFor`, fields.onlyFor),
    onError: onError as ActionSpec['onError'],
    timeoutMs:
      t === 'delay'
        ? null
        : fields.timeout === undefined
          ? LIMITS[t].default
          : duration(c, `${path}.timeout`, fields.timeout, LIMITS[t]),
    site: null as string | null | undefined,
    command: null as string | null | undefined,
    message: null as string | null | undefined,
    durationMs: null as number | null | undefined,
  };
  if (t === 'script') {
    spec.site = c.siteName(`${path}.site`, fields.site);
    spec.command = c.text(`${path}.command`, fields.command);
  }
  if (t === 'manual') spec.message = c.text(`${path}.message`, fields.message);
  if (t === 'delay') spec.durationMs = duration(c, `${path}.duration`, fields.duration, LIMITS.delay);
  return Object.values(spec).every((v) => v !== undefined) ? (spec as ActionSpec) : undefined;
}

function actions(c: Checker, path: string, value: unknown, prefix: string): ActionSpec[] {
  const list = c.list(path, value, MAX_ACTIONS, true) ?? [];
  return list.flatMap((item, i) => action(c, `${path}[${i}]`, item, `${prefix}-${i + 1}`) ?? []);
}

function group(c: Checker, path: string, value: unknown): GroupSpec | undefined {
  const fields = c.object(path, value, ['name', 'workloads', 'pre', 'post']);
  if (!fields) return undefined;
  const name = c.name(`${path}.name`, fields.name, 'a group name is');
  const list = c.list(`${path}.workloads`, fields.workloads, 100, false) ?? [];
  const workloads = list.flatMap((w, i) => c.name(`${path}.workloads[${i}]`, w, 'a workload name is') ?? []);
  const pre = actions(c, `${path}.pre`, fields.pre, `${name ?? 'group'}-pre`);
  const post = actions(c, `${path}.post`, fields.post, `${name ?? 'group'}-post`);
  return name && workloads.length === list.length && list.length > 0
    ? { name, workloads, pre, post }
    : undefined;
}

/** Names are unique in a plan: groups, actions, and a workload is in one group only. */
function uniqueNames(c: Checker, path: string, groups: GroupSpec[]): void {
  const seen = { group: new Set<string>(), workload: new Set<string>(), action: new Set<string>() };
  groups.forEach((g, i) => {
    if (seen.group.has(g.name)) c.fail(`${path}.groups[${i}].name`, `"${g.name}" is used twice`);
    seen.group.add(g.name);
    for (const w of g.workloads) {
      if (seen.workload.has(w)) c.fail(`${path}.groups[${i}].workloads`, `"${w}" is in the plan twice`);
      seen.workload.add(w);
    }
    for (const a of [...g.pre, ...g.post]) {
      if (seen.action.has(a.name))
        c.fail(`${path}.groups[${i}]`, `the action name "${a.name}" is used twice`);
      seen.action.add(a.name);
    }
  });
}

function plan(c: Checker, path: string, value: unknown): PlanSpec | undefined {
  const fields = c.object(path, value, ['name', 'description', 'groups', 'autoFailover']);
  if (!fields) return undefined;
  const auto = checkAutoFailoverOption(`${path}.autoFailover`, fields.autoFailover);
  c.problems.push(...auto.problems);
  const name = c.name(`${path}.name`, fields.name, 'a plan name is');
  const description =
    fields.description === undefined ? null : c.text(`${path}.description`, fields.description, 500);
  const list = c.list(`${path}.groups`, fields.groups, MAX_GROUPS, false) ?? [];
  const groups = list.flatMap((g, i) => group(c, `${path}.groups[${i}]`, g) ?? []);
  uniqueNames(c, path, groups);
  if (!name || description === undefined || groups.length !== list.length || list.length === 0)
    return undefined;
  if (auto.spec === null) return undefined;
  return { name, description, groups, ...(auto.spec ? { autoFailover: auto.spec } : {}) };
}

/** The checked plans of a parsed document; PlanFileError lists every problem. */
export function checkPlanDocument(document: unknown): PlanSpec[] {
  const c = new Checker();
  const root = c.object('(file)', document, ['plans']);
  const list = root ? (c.list('plans', root.plans, 100, false) ?? []) : [];
  const specs: PlanSpec[] = [];
  list.forEach((item, i) => {
    const spec = plan(c, `plans[${i}]`, item);
    if (spec && specs.some((s) => s.name === spec.name))
      c.fail(`plans[${i}].name`, `"${spec.name}" is declared twice`);
    else if (spec) specs.push(spec);
  });
  if (c.problems.length > 0) throw new PlanFileError(c.problems);
  return specs;
}

/** The YAML document as it is, unchecked; a syntax error names its line. */
export function readPlanYaml(text: string): unknown {
  return readYaml(text, (problems) => new PlanFileError(problems));
}

export function parsePlanFile(text: string): PlanSpec[] {
  return checkPlanDocument(readPlanYaml(text));
}

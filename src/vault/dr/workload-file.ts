import { isAbsolute } from 'node:path';
import { DocumentError, FieldChecker, type Fields, readYaml } from './document.ts';

// Workloads declared in YAML (DESIGN.md §6): what `offsite dr apply FILE` reads and what
// `PUT /v1/dr/workloads` checks again. Every broken rule is reported at once, each with
// the path to the field and what is allowed, and nothing is applied while one remains.
//
//   workloads:
//     - name: orders-db
//       dataPaths: [/srv/orders]
//       start: systemctl start orders-db
//       stop: systemctl stop orders-db
//       health: { type: tcp, host: 127.0.0.1, port: 5432, timeout: 5s }
//       hooks: { freeze: "psql -c 'CHECKPOINT'", thaw: "true" }
//       primarySite: dc1
//       replicaSite: dc2
//       replication: { frequency: 5m, extraHourlyPoints: 24, appConsistentEveryHours: 4 }

export const FREQUENCIES = { '30s': 30_000, '5m': 300_000, '15m': 900_000 } as const;
export type Frequency = keyof typeof FREQUENCIES;
export const MAX_EXTRA_HOURLY_POINTS = 24;
export const MAX_APP_CONSISTENT_HOURS = 24;
const MAX_COMMAND = 4000;
const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
const MAX_PROBE_TIMEOUT_MS = 300_000;

export type HealthProbe =
  | { type: 'tcp'; host: string; port: number; timeoutMs: number }
  | { type: 'http'; url: string; expectStatus: number; timeoutMs: number }
  | { type: 'command'; command: string; timeoutMs: number };

export interface WorkloadSpec {
  name: string;
  dataPaths: string[];
  start: string;
  stop: string;
  health: HealthProbe;
  hooks: { freeze: string; thaw: string } | null;
  primarySite: string;
  replicaSite: string;
  replication: {
    frequency: Frequency;
    extraHourlyPoints: number;
    /** null: no application-consistent points (crash-consistent only). */
    appConsistentEveryHours: number | null;
  };
}

/** Every problem of a workload file, one "path: what is wrong" line each. */
export class WorkloadFileError extends DocumentError {
  constructor(problems: readonly string[]) {
    super('BAD_WORKLOAD_FILE', 'workload file', problems);
  }
}

class Checker extends FieldChecker {
  constructor() {
    super(MAX_COMMAND);
  }

  integer(path: string, value: unknown, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.fail(path, `must be a whole number from ${min} to ${max}`);
    }
    return value;
  }
}

const WORKLOAD_FIELDS = [
  'name',
  'dataPaths',
  'start',
  'stop',
  'health',
  'hooks',
  'primarySite',
  'replicaSite',
  'replication',
] as const;

function dataPaths(c: Checker, path: string, value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return c.fail(path, 'must be a list of one or more absolute paths');
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (typeof item !== 'string' || !isAbsolute(item) || item.includes('\0')) {
      c.fail(at, 'must be an absolute path');
    } else if (item.split('/').includes('..')) {
      c.fail(at, 'must not contain ".."');
    } else if (seen.has(item)) {
      c.fail(at, 'is listed twice');
    } else {
      seen.add(item);
    }
  });
  return value as string[];
}

const TIMEOUT = /^(\d+)(ms|s|m)$/;
const TIMEOUT_UNIT = { ms: 1, s: 1000, m: 60_000 } as const;

function timeout(c: Checker, path: string, value: unknown): number {
  if (value === undefined) return DEFAULT_PROBE_TIMEOUT_MS;
  const match = typeof value === 'string' ? TIMEOUT.exec(value) : null;
  const ms = match ? Number(match[1]) * TIMEOUT_UNIT[match[2] as keyof typeof TIMEOUT_UNIT] : 0;
  if (ms < 100 || ms > MAX_PROBE_TIMEOUT_MS) {
    c.fail(path, 'must be a duration from 100ms to 5m, e.g. 500ms, 10s, 2m');
  }
  return ms;
}

function httpUrl(c: Checker, path: string, value: unknown): string | undefined {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return c.fail(path, 'must be an http:// or https:// URL');
  }
  return value as string;
}

const PROBE_FIELDS = {
  tcp: ['type', 'host', 'port', 'timeout'],
  http: ['type', 'url', 'expectStatus', 'timeout'],
  command: ['type', 'command', 'timeout'],
} as const;

function health(c: Checker, path: string, value: unknown): HealthProbe | undefined {
  const type = (value as Fields | null)?.type;
  if (type !== 'tcp' && type !== 'http' && type !== 'command') {
    if (typeof value !== 'object' || value === null) return c.fail(path, 'must be a mapping with a type');
    return c.fail(`${path}.type`, 'must be one of tcp, http, command');
  }
  const fields = c.object(path, value, PROBE_FIELDS[type])!;
  const timeoutMs = timeout(c, `${path}.timeout`, fields.timeout);
  if (type === 'tcp') {
    const host = c.text(`${path}.host`, fields.host, 253);
    const port = c.integer(`${path}.port`, fields.port, 1, 65535);
    return host && port ? { type, host, port, timeoutMs } : undefined;
  }
  if (type === 'http') {
    const url = httpUrl(c, `${path}.url`, fields.url);
    const expected = fields.expectStatus === undefined ? 200 : fields.expectStatus;
    const expectStatus = c.integer(`${path}.expectStatus`, expected, 100, 599);
    return url && expectStatus ? { type, url, expectStatus, timeoutMs } : undefined;
  }
  const command = c.text(`${path}.command`, fields.command);
  return command ? { type, command, timeoutMs } : undefined;
}

function hooks(c: Checker, path: string, value: unknown): WorkloadSpec['hooks'] | undefined {
  if (value === undefined || value === null) return null;
  const fields = c.object(path, value, ['freeze', 'thaw']);
  if (!fields) return undefined;
  const freeze = c.text(`${path}.freeze`, fields.freeze);
  const thaw = c.text(`${path}.thaw`, fields.thaw);
  return freeze && thaw ? { freeze, thaw } : undefined;
}

function replication(
  c: Checker,
  path: string,
  value: unknown,
  hasHooks: boolean,
): WorkloadSpec['replication'] | undefined {
  const fields = c.object(path, value, ['frequency', 'extraHourlyPoints', 'appConsistentEveryHours']);
  if (!fields) return undefined;
  const frequency = fields.frequency;
  if (typeof frequency !== 'string' || !(frequency in FREQUENCIES)) {
    c.fail(`${path}.frequency`, `must be one of ${Object.keys(FREQUENCIES).join(', ')}`);
  }
  const extra = c.integer(
    `${path}.extraHourlyPoints`,
    fields.extraHourlyPoints ?? 0,
    0,
    MAX_EXTRA_HOURLY_POINTS,
  );
  let every: number | null = null;
  if (fields.appConsistentEveryHours !== undefined && fields.appConsistentEveryHours !== null) {
    every =
      c.integer(
        `${path}.appConsistentEveryHours`,
        fields.appConsistentEveryHours,
        1,
        MAX_APP_CONSISTENT_HOURS,
      ) ?? null;
    if (!hasHooks) c.fail(`${path}.appConsistentEveryHours`, 'needs hooks.freeze and hooks.thaw');
  }
  if (extra === undefined || !(typeof frequency === 'string' && frequency in FREQUENCIES)) return undefined;
  return { frequency: frequency as Frequency, extraHourlyPoints: extra, appConsistentEveryHours: every };
}

function workload(c: Checker, path: string, value: unknown): WorkloadSpec | undefined {
  const fields = c.object(path, value, WORKLOAD_FIELDS);
  if (!fields) return undefined;
  const spec = {
    name: c.name(`${path}.name`, fields.name, 'a workload name is'),
    dataPaths: dataPaths(c, `${path}.dataPaths`, fields.dataPaths),
    start: c.text(`${path}.start`, fields.start),
    stop: c.text(`${path}.stop`, fields.stop),
    health: health(c, `${path}.health`, fields.health),
    hooks: hooks(c, `${path}.hooks`, fields.hooks),
    primarySite: c.siteName(`${path}.primarySite`, fields.primarySite),
    replicaSite: c.siteName(`${path}.replicaSite`, fields.replicaSite),
    replication: undefined as WorkloadSpec['replication'] | undefined,
  };
  spec.replication = replication(c, `${path}.replication`, fields.replication, Boolean(spec.hooks));
  if (spec.primarySite && spec.primarySite === spec.replicaSite) {
    c.fail(`${path}.replicaSite`, 'must differ from primarySite');
  }
  const complete = Object.values(spec).every((v) => v !== undefined);
  return complete ? (spec as WorkloadSpec) : undefined;
}

/** The checked workloads of a parsed document; WorkloadFileError lists every problem. */
export function checkWorkloadDocument(document: unknown): WorkloadSpec[] {
  const c = new Checker();
  const root = c.object('(file)', document, ['workloads']);
  const list = root?.workloads;
  if (root && (!Array.isArray(list) || list.length === 0))
    c.fail('workloads', 'must be a list of one or more workloads');
  const specs: WorkloadSpec[] = [];
  const names = new Set<string>();
  (Array.isArray(list) ? list : []).forEach((item, i) => {
    const spec = workload(c, `workloads[${i}]`, item);
    if (spec && names.has(spec.name)) c.fail(`workloads[${i}].name`, `"${spec.name}" is declared twice`);
    if (spec) {
      names.add(spec.name);
      specs.push(spec);
    }
  });
  if (c.problems.length > 0) throw new WorkloadFileError(c.problems);
  return specs;
}

/** The YAML document as it is, unchecked; a syntax error names its line. */
export function readWorkloadYaml(text: string): unknown {
  return readYaml(text, (problems) => new WorkloadFileError(problems));
}

/** Parses YAML text and checks it. */
export function parseWorkloadFile(text: string): WorkloadSpec[] {
  return checkWorkloadDocument(readWorkloadYaml(text));
}

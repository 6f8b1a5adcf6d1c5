import { BadInputError } from '../../errors/index.ts';
import type { ProbeSpec } from './probe.ts';

// The environment a workload's commands get, and its health probe moved to a test run's
// ports: a test copy runs beside the real one, its ports shifted by the run's offset.

export interface RunTarget {
  mode: 'test' | 'real';
  runId: string | null;
  /** Test copies only: where the data paths were materialised (absolute paths below it). */
  root: string;
  portOffset: number;
}

export function drEnv(workload: string, target: RunTarget, epoch: number): Record<string, string> {
  return {
    OFFSITE_WORKLOAD: workload,
    OFFSITE_DR_MODE: target.mode,
    OFFSITE_DR_ROOT: target.mode === 'test' ? target.root : '',
    OFFSITE_DR_PORT_OFFSET: String(target.mode === 'test' ? target.portOffset : 0),
    OFFSITE_DR_RUN: target.runId ?? '',
    OFFSITE_DR_EPOCH: String(epoch),
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The caller's extra environment: names and string values only, never OFFSITE_DR_* overrides. */
export function extraEnv(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new BadInputError('BAD_ENV', 'env must be an object of names to text values');
  const env: Record<string, string> = {};
  for (const [name, text] of Object.entries(value as Record<string, unknown>)) {
    if (
      !ENV_NAME.test(name) ||
      name.startsWith('OFFSITE_DR_') ||
      typeof text !== 'string' ||
      text.length > 8192
    )
      throw new BadInputError(
        'BAD_ENV',
        `env.${name.slice(0, 60)}: a variable name and a text value of at most 8 KiB`,
      );
    env[name] = text;
  }
  return env;
}

export function portOffsetOf(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 60_000)
    throw new BadInputError('BAD_PORT_OFFSET', 'portOffset must be a whole number from 0 to 60000');
  return value;
}

/** The probe of a test copy: TCP and HTTP ports shifted by the offset; a command gets the env. */
export function shiftedProbe(spec: ProbeSpec, offset: number): ProbeSpec {
  if (offset === 0) return spec;
  if (spec.type === 'tcp') return { ...spec, port: spec.port + offset };
  if (spec.type === 'http') {
    const url = new URL(spec.url);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    url.port = String(port + offset);
    return { ...spec, url: url.toString() };
  }
  return spec;
}

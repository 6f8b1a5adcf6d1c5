import { SITE_NAME_PATTERN, SITE_NAME_RULE } from '../names.ts';

// The `autoFailover` option of a recovery plan (opt-in, default off):
//
//   autoFailover:
//     enabled: true
//     afterSilence: 2m              # the active site silent this long (1m to 24h)
//     witnesses: [replica]          # or [replica, site:dc3]: who must also find it silent
//
// The replica is always a witness (it is the site that takes over); a second, third site
// may be required too. Checked here so plan-file.ts only adds the field.

export const REPLICA_WITNESS = 'replica';
const SITE_WITNESS = /^site:(.*)$/;
const MINUTE = 60_000;
const MIN_SILENCE = MINUTE;
const MAX_SILENCE = 24 * 60 * MINUTE;
const FIELDS = ['enabled', 'afterSilence', 'witnesses'];
const DURATION = /^(\d{1,9})(s|m|h)$/;
const UNIT = { s: 1000, m: MINUTE, h: 60 * MINUTE } as const;

export interface AutoFailoverSpec {
  enabled: boolean;
  afterSilenceMs: number;
  /** 'replica', then optionally 'site:<name>'. */
  witnesses: string[];
}

export interface CheckedOption {
  /** undefined: absent (off); null: invalid (see problems). */
  spec: AutoFailoverSpec | undefined | null;
  problems: string[];
}

function silence(path: string, value: unknown, problems: string[]): number | undefined {
  const match = typeof value === 'string' ? DURATION.exec(value) : null;
  const ms = match ? Number(match[1]) * UNIT[match[2] as keyof typeof UNIT] : 0;
  if (ms >= MIN_SILENCE && ms <= MAX_SILENCE) return ms;
  problems.push(`${path}: must be a duration from 1m to 24h, e.g. 90s, 2m, 1h`);
  return undefined;
}

function witnesses(path: string, value: unknown, problems: string[]): string[] | undefined {
  if (value === undefined) return [REPLICA_WITNESS];
  const rule = `must be [${REPLICA_WITNESS}] or [${REPLICA_WITNESS}, site:NAME]`;
  if (!Array.isArray(value) || value.length < 1 || value.length > 2 || value[0] !== REPLICA_WITNESS) {
    problems.push(`${path}: ${rule} (the replica always witnesses)`);
    return undefined;
  }
  if (value.length === 1) return [REPLICA_WITNESS];
  const site = typeof value[1] === 'string' ? SITE_WITNESS.exec(value[1])?.[1] : undefined;
  if (site === undefined || !SITE_NAME_PATTERN.test(site)) {
    problems.push(`${path}[1]: ${rule}; a site name is ${SITE_NAME_RULE}`);
    return undefined;
  }
  return [REPLICA_WITNESS, `site:${site}`];
}

/** The checked option at `path`; every problem reported at once, as the plan file does. */
export function checkAutoFailoverOption(path: string, value: unknown): CheckedOption {
  if (value === undefined) return { spec: undefined, problems: [] };
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { spec: null, problems: [`${path}: must be a mapping with the fields ${FIELDS.join(', ')}`] };
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.includes(key)) problems.push(`${path}.${key}: unknown field; allowed: ${FIELDS.join(', ')}`);
  }
  if (typeof fields.enabled !== 'boolean') problems.push(`${path}.enabled: must be true or false`);
  const enabled = fields.enabled === true;
  let afterSilenceMs: number | undefined;
  if (fields.afterSilence === undefined && enabled) {
    problems.push(`${path}.afterSilence: is required when enabled, e.g. afterSilence: 2m (1m to 24h)`);
  } else if (fields.afterSilence !== undefined) {
    afterSilenceMs = silence(`${path}.afterSilence`, fields.afterSilence, problems);
  }
  const list = witnesses(`${path}.witnesses`, fields.witnesses, problems);
  if (problems.length > 0 || list === undefined) return { spec: null, problems };
  return { spec: { enabled, afterSilenceMs: afterSilenceMs ?? 5 * MINUTE, witnesses: list }, problems };
}

/** The plan's option when it is on; undefined when absent, off, or not a spec this code wrote. */
export function autoFailoverOf(planSpec: unknown): AutoFailoverSpec | undefined {
  const option = (planSpec as { autoFailover?: unknown } | null)?.autoFailover;
  if (typeof option !== 'object' || option === null) return undefined;
  const { enabled, afterSilenceMs, witnesses: list } = option as Record<string, unknown>;
  if (enabled !== true || typeof afterSilenceMs !== 'number' || afterSilenceMs < MIN_SILENCE)
    return undefined;
  if (!Array.isArray(list) || !list.every((w) => typeof w === 'string')) return undefined;
  return { enabled, afterSilenceMs, witnesses: list as string[] };
}

/** The site a `site:<name>` witness names; undefined for the replica. */
export function witnessSiteName(witness: string): string | undefined {
  return SITE_WITNESS.exec(witness)?.[1];
}

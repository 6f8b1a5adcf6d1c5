import type { ServerClient } from '../../../server/index.ts';
import { type CommandContext, list, str, UsageError } from '../../command.ts';
import { type VaultAction, vaultPath } from './action.ts';

// A vault's backup policy (schedule, retention, and the sources agents back up) and its
// lock (immutability).

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

interface PolicyAnswer {
  vault: string;
  immutable: boolean;
  policy: {
    schedule: { times: string[]; days: 'daily' | string[]; timeZone: string };
    retention: Record<string, number>;
    sources?: { paths: string[]; excludes: string[] };
  } | null;
}

/** "daily", "mon-fri", "mon,wed,fri" or "sat-sun,wed" → 'daily' or weekdays. */
export function parseDays(text: string): 'daily' | string[] {
  if (text === 'daily') return 'daily';
  const days = new Set<string>();
  for (const part of text.split(',')) {
    const [from, to = from] = part.split('-');
    const a = WEEKDAYS.indexOf(from ?? '');
    const b = WEEKDAYS.indexOf(to ?? '');
    if (a < 0 || b < 0 || part.split('-').length > 2) {
      throw new UsageError(
        `--days: "${part}" is not a weekday or range of weekdays (mon … sun), nor "daily"`,
      );
    }
    for (let i = a; ; i = (i + 1) % 7) {
      days.add(WEEKDAYS[i]!);
      if (i === b) break;
    }
  }
  return WEEKDAYS.filter((d) => days.has(d));
}

/** A count flag as a number; the server names what is out of range. */
function count(ctx: CommandContext, flag: string): number | undefined {
  const text = str(ctx.values, flag);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number`);
  return Number(text);
}

function policyBody(ctx: CommandContext) {
  const times = str(ctx.values, 'times');
  if (!times) throw new UsageError('policy set needs --times HH:MM[,HH:MM...]');
  const retention: Record<string, number> = {};
  for (const kind of ['daily', 'weekly', 'monthly', 'yearly', 'last']) {
    const n = count(ctx, kind);
    if (n !== undefined) retention[kind] = n;
  }
  return {
    schedule: {
      times: times.split(',').map((t) => t.trim()),
      days: parseDays(str(ctx.values, 'days') ?? 'daily'),
      timeZone: str(ctx.values, 'time-zone') ?? 'UTC',
    },
    retention,
    ...sourcesBody(ctx),
  };
}

/** --source PATH and --exclude GLOB, repeatable; paths are on the agents' servers, kept as given. */
function sourcesBody(ctx: CommandContext) {
  const paths = list(ctx.values, 'source');
  const excludes = list(ctx.values, 'exclude');
  if (paths.length === 0 && excludes.length > 0)
    throw new UsageError('--exclude needs at least one --source');
  return paths.length > 0 ? { sources: { paths, excludes } } : {};
}

export function describePolicy(answer: PolicyAnswer): string[] {
  const lines = [`vault:      ${answer.vault}${answer.immutable ? ' (immutable)' : ''}`];
  const p = answer.policy;
  if (!p) return [...lines, 'policy:     none (no schedule; recovery points never expire)'];
  const days = p.schedule.days === 'daily' ? 'every day' : p.schedule.days.join(', ');
  const keep = ['last', 'daily', 'weekly', 'monthly', 'yearly']
    .filter((k) => (p.retention[k] ?? 0) > 0)
    .map((k) => `${k} ${p.retention[k]}`);
  const sources = p.sources
    ? `${p.sources.paths.join(', ')}${p.sources.excludes.length ? ` (excluding ${p.sources.excludes.join(', ')})` : ''}`
    : 'none (agents back up only when told: offsite backup PATH)';
  return [
    ...lines,
    `backups:    ${p.schedule.times.join(', ')} ${p.schedule.timeZone}, ${days}`,
    `retention:  ${keep.join(', ')}`,
    `sources:    ${sources}`,
  ];
}

function name(args: string[], usage: string): string {
  const [vault, extra] = args;
  if (!vault) throw new UsageError(`${usage} needs the vault NAME`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return vault;
}

async function policy(ctx: CommandContext, client: () => Promise<ServerClient>, args: string[]) {
  const [sub, ...rest] = args;
  if (sub === 'show') {
    const answer = (await (
      await client()
    ).call('GET', vaultPath(name(rest, 'policy show'), '/policy'))) as PolicyAnswer;
    ctx.out.data(answer);
    for (const line of describePolicy(answer)) ctx.out.line(line);
    return 0;
  }
  if (sub === 'set') {
    const vault = name(rest, 'policy set');
    const body = policyBody(ctx);
    const answer = (await (await client()).call('PUT', vaultPath(vault, '/policy'), body)) as PolicyAnswer;
    ctx.out.data(answer);
    ctx.out.line(`policy of vault ${answer.vault} set`);
    for (const line of describePolicy(answer).slice(1)) ctx.out.line(line);
    return 0;
  }
  throw new UsageError('give policy set NAME ... or policy show NAME');
}

export const POLICY_ACTIONS: VaultAction[] = [
  {
    name: 'policy',
    usage: 'policy set NAME --times HH:MM[,..] --daily N ... [--source PATH ...] | policy show NAME',
    summary: 'set or show the backup schedule, retention and sources (set replaces the whole policy)',
    options: {
      times: { type: 'string' },
      days: { type: 'string' },
      'time-zone': { type: 'string' },
      daily: { type: 'string' },
      weekly: { type: 'string' },
      monthly: { type: 'string' },
      yearly: { type: 'string' },
      last: { type: 'string' },
      source: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
    },
    optionHelp: [
      ['--times HH:MM[,HH:MM]', 'policy: backup times of day (up to 24)'],
      ['--days daily|mon-fri|...', 'policy: the weekdays backups run (default daily)'],
      ['--time-zone ZONE', 'policy: IANA time zone of times and retention days (default UTC)'],
      ['--daily/--weekly/--monthly/--yearly N', 'policy: recovery points kept per day, week, month, year'],
      ['--last N', 'policy: also keep the newest N recovery points'],
      ['--source PATH', "policy: an absolute path on the agents' servers the daemon backs up; repeatable"],
      ['--exclude GLOB', 'policy: skip matching names ("*.tmp") or paths ("/var/cache/**"); repeatable'],
    ],
    run: policy,
  },
  {
    name: 'lock',
    usage: 'lock NAME',
    summary: 'make a vault immutable for good (retention can never be reduced)',
    run: async (ctx, client, args) => {
      const vault = (await (await client()).call('POST', vaultPath(name(args, 'lock'), '/lock'))) as {
        name: string;
      };
      ctx.out.data(vault);
      ctx.out.line(`vault ${vault.name} is immutable: its retention can never be reduced`);
      return 0;
    },
  },
];

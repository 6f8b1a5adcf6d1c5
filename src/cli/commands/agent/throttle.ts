import {
  checkTimeZone,
  describeThrottle,
  parseRate,
  parseWorkDays,
  parseWorkHours,
  saveThrottle,
  type ThrottleSettings,
  throttleSummary,
} from '../../../agent/network.ts';
import { agentDir } from '../../../agent/state.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import type { AgentAction } from './action.ts';

// The bandwidth this agent may use for repository data (uploads and downloads each): one
// rate in work hours, another outside them, switching while a job runs.

const SET_OPTIONS = ['work-hours', 'work-days', 'work-rate', 'off-rate', 'time-zone'] as const;

function settingsFrom(ctx: CommandContext): ThrottleSettings {
  const workRate = str(ctx.values, 'work-rate');
  if (workRate === undefined) throw new UsageError('give --work-rate RATE (e.g. 4MiB/s)');
  const timeZone = str(ctx.values, 'time-zone');
  return {
    version: 1,
    workHours: parseWorkHours(str(ctx.values, 'work-hours') ?? '08:00-18:00'),
    workDays: parseWorkDays(str(ctx.values, 'work-days') ?? 'mon-fri'),
    workRate: parseRate(workRate, '--work-rate'),
    offRate: parseRate(str(ctx.values, 'off-rate') ?? 'unlimited', '--off-rate'),
    ...(timeZone !== undefined ? { timeZone: checkTimeZone(timeZone) } : {}),
  };
}

async function show(ctx: CommandContext, dir: string): Promise<number> {
  const summary = await throttleSummary(dir);
  ctx.out.data(summary.json);
  for (const line of summary.lines) ctx.out.line(line);
  return 0;
}

async function throttle(ctx: CommandContext, args: string[]): Promise<number> {
  const dir = agentDir(ctx.env);
  const given = SET_OPTIONS.filter((o) => ctx.values[o] !== undefined);
  if (args.length > 1 || (args.length === 1 && args[0] !== 'none')) {
    throw new UsageError(`unexpected argument "${args.at(-1)}": give "none" or the --work-* options`);
  }
  if (args[0] === 'none') {
    if (given.length > 0) throw new UsageError(`"none" takes no --${given[0]}`);
    await saveThrottle(dir, null);
    ctx.out.data(null);
    ctx.out.line('throttle removed: the agent uses all the bandwidth it gets');
    return 0;
  }
  if (given.length === 0) return await show(ctx, dir);
  const settings = settingsFrom(ctx);
  await saveThrottle(dir, settings);
  ctx.out.data(settings);
  ctx.out.line(`throttle: ${describeThrottle(settings)}`);
  ctx.out.line('applies to repository data from the next command or job on');
  return 0;
}

export const THROTTLE_ACTIONS: AgentAction[] = [
  {
    name: 'throttle',
    usage:
      'throttle [--work-hours HH:MM-HH:MM --work-days DAYS --work-rate RATE --off-rate RATE --time-zone ZONE | none]',
    summary: 'show or set the bandwidth for repository data, by work hours (none: unlimited)',
    options: {
      'work-hours': { type: 'string' },
      'work-days': { type: 'string' },
      'work-rate': { type: 'string' },
      'off-rate': { type: 'string' },
      'time-zone': { type: 'string' },
    },
    optionHelp: [
      ['--work-hours HH:MM-HH:MM', 'work hours (default 08:00-18:00; 22:00-06:00 runs past midnight)'],
      ['--work-days DAYS', 'work days: mon-fri (default), sat,sun, mon-wed,fri or daily'],
      ['--work-rate RATE', 'rate in work hours, e.g. 4MiB/s or 500KiB/s, for uploads and downloads each'],
      ['--off-rate RATE', 'rate outside work hours (default unlimited)'],
      ['--time-zone ZONE', "an IANA zone for the work hours (default: the machine's local zone)"],
    ],
    run: throttle,
  },
];

import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError, errnoCode, IntegrityError } from '../errors/index.ts';
import { formatBytes, parseBytes, writeAtomic } from '../util/index.ts';
import type { RateAt } from '../util/rate.ts';
import { isTimeZone, WEEKDAYS, type Weekday } from '../vault/policy.ts';
import { type ProxyEndpoint, proxyName } from './proxy-agent.ts';

// How this agent reaches its vault, set by the administrator in the agent folder: the
// bandwidth it may use (a work-hours rate and an off-hours rate, in the machine's time
// zone unless one is given) and the HTTP proxy it must go through. Both may be set before
// the agent is registered. The proxy password is a copy in its own 0600 file; nothing
// here ever prints it.

export interface ThrottleSettings {
  version: 1;
  /** "HH:MM" each; an end before the start runs past midnight (22:00-06:00). */
  workHours: { start: string; end: string };
  workDays: Weekday[];
  /** Bytes per second; null: unlimited. */
  workRate: number | null;
  offRate: number | null;
  /** IANA zone; absent: the machine's local zone, whatever it is when the agent runs. */
  timeZone?: string;
}

export interface ProxySettings {
  version: 1;
  /** http://host:port, without credentials. */
  url: string;
  user?: string;
}

export function networkFiles(dir: string) {
  return {
    throttle: join(dir, 'throttle.json'),
    proxy: join(dir, 'proxy.json'),
    proxyPassword: join(dir, 'proxy-password'),
  };
}

const MIN_RATE = 1024;

/** "4MiB/s", "500KiB/s", "4MiB" → bytes per second; "unlimited" or "none" → null. */
export function parseRate(text: string, what: string): number | null {
  const trimmed = text.trim();
  if (/^(unlimited|none)$/i.test(trimmed)) return null;
  let bytes: number;
  try {
    bytes = parseBytes(trimmed.replace(/\s*\/\s*s$/i, ''));
  } catch {
    throw new BadInputError('BAD_RATE', `${what} "${text}" is not a rate`, {
      hint: 'write rates like 4MiB/s, 500KiB/s or unlimited',
    });
  }
  if (bytes < MIN_RATE) {
    throw new BadInputError('BAD_RATE', `${what} ${text} is below the least rate, 1KiB/s`, {
      hint: 'give at least 1KiB/s, or unlimited',
    });
  }
  return bytes;
}

function minuteOf(time: string): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(time);
  if (!match) return undefined;
  const [h, m] = [Number(match[1]), Number(match[2])];
  return (h < 24 && m < 60) || (h === 24 && m === 0) ? h * 60 + m : undefined;
}

export function parseWorkHours(text: string): ThrottleSettings['workHours'] {
  const [start = '', end = '', ...rest] = text.trim().split('-');
  const from = minuteOf(start);
  const to = minuteOf(end);
  if (rest.length > 0 || from === undefined || to === undefined || from === 24 * 60 || from === to) {
    throw new BadInputError('BAD_WORK_HOURS', `--work-hours "${text}" is not HH:MM-HH:MM`, {
      hint: 'e.g. 08:00-18:00, or 22:00-06:00 past midnight; start and end differ',
    });
  }
  return { start, end };
}

/** "mon-fri", "sat,sun", "mon-wed,fri", "fri-mon" (wrapping) or "daily", in week order. */
export function parseWorkDays(text: string): Weekday[] {
  const bad = () =>
    new BadInputError('BAD_WORK_DAYS', `--work-days "${text}" is not a list of weekdays`, {
      hint: `e.g. mon-fri or mon,wed,fri or daily; days are ${WEEKDAYS.join(', ')}`,
    });
  const lowered = text.trim().toLowerCase();
  if (lowered === 'daily') return [...WEEKDAYS];
  const days = new Set<Weekday>();
  for (const part of lowered.split(',')) {
    const [first, last = first, ...rest] = part.trim().split('-');
    const a = WEEKDAYS.indexOf(first as Weekday);
    const b = WEEKDAYS.indexOf(last as Weekday);
    if (rest.length > 0 || a < 0 || b < 0) throw bad();
    for (let i = a; ; i = (i + 1) % 7) {
      days.add(WEEKDAYS[i]!);
      if (i === b) break;
    }
  }
  return WEEKDAYS.filter((d) => days.has(d));
}

export function checkTimeZone(zone: string): string {
  if (!isTimeZone(zone)) {
    throw new BadInputError('BAD_TIME_ZONE', `"${zone}" is not an IANA time zone`, {
      hint: 'e.g. Europe/Berlin, America/New_York or UTC',
    });
  }
  return zone;
}

const WEEKDAY_OF: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute of the day on the wall clock of `timeZone` (undefined: local). */
function wallClock(now: number, timeZone: string | undefined): { weekday: Weekday; minute: number } {
  let f = formatters.get(timeZone ?? '');
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone ?? '', f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(now)) parts[p.type] = p.value;
  return { weekday: WEEKDAY_OF[parts.weekday!]!, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Whether `now` falls in the work hours; a window past midnight belongs to the day it starts. */
export function inWorkHours(settings: ThrottleSettings, now: number): boolean {
  const { weekday, minute } = wallClock(now, settings.timeZone);
  const start = minuteOf(settings.workHours.start)!;
  const end = minuteOf(settings.workHours.end)!;
  const workDay = (d: Weekday) => settings.workDays.includes(d);
  if (start < end) return workDay(weekday) && minute >= start && minute < end;
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(weekday) + 6) % 7]!;
  return (workDay(weekday) && minute >= start) || (workDay(yesterday) && minute < end);
}

/** The throttle as a rate that follows the clock, for a TokenBucket. */
export function throttleRate(settings: ThrottleSettings): RateAt {
  return (now) =>
    (inWorkHours(settings, now) ? settings.workRate : settings.offRate) ?? Number.POSITIVE_INFINITY;
}

function rateText(rate: number | null): string {
  return rate === null ? 'unlimited' : `${formatBytes(rate)}/s`;
}

/** Weekdays as people write them: runs of three or more as ranges ("mon-fri,sun"). */
function formatDays(days: readonly Weekday[]): string {
  if (days.length === 7) return 'daily';
  const parts: string[] = [];
  for (let i = 0; i < 7; i++) {
    if (!days.includes(WEEKDAYS[i]!)) continue;
    let j = i;
    while (j + 1 < 7 && days.includes(WEEKDAYS[j + 1]!)) j++;
    if (j - i >= 2) parts.push(`${WEEKDAYS[i]}-${WEEKDAYS[j]}`);
    else for (let k = i; k <= j; k++) parts.push(WEEKDAYS[k]!);
    i = j;
  }
  return parts.join(',');
}

export function describeThrottle(settings: ThrottleSettings): string {
  const days = formatDays(settings.workDays);
  const zone = settings.timeZone ?? 'local time';
  return (
    `${rateText(settings.workRate)} ${days} ${settings.workHours.start}-${settings.workHours.end} (${zone}), ` +
    `${rateText(settings.offRate)} otherwise`
  );
}

/** The folder may exist before registration; it holds secrets, so it must be 0700. */
export async function ensureAgentDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new BadInputError(
      'AGENT_DIR_OPEN',
      `the agent folder ${dir} is readable by others (mode ${mode.toString(8)})`,
      { hint: `chmod 700 ${dir}` },
    );
  }
}

function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new IntegrityError('AGENT_SETTINGS_DAMAGED', `${path} is not valid JSON`, {
      hint: 'set it again (offsite agent throttle / offsite agent proxy set), or delete the file',
    });
  }
}

/** The settings as parsed from the command line; anything else in the file means it was damaged. */
function validThrottle(value: Partial<ThrottleSettings>): boolean {
  const rate = (r: unknown) => r === null || (typeof r === 'number' && r >= MIN_RATE);
  try {
    return (
      value.version === 1 &&
      parseWorkHours(`${value.workHours?.start}-${value.workHours?.end}`) !== undefined &&
      Array.isArray(value.workDays) &&
      value.workDays.every((d) => WEEKDAYS.includes(d)) &&
      rate(value.workRate) &&
      rate(value.offRate) &&
      (value.timeZone === undefined || isTimeZone(value.timeZone))
    );
  } catch {
    return false;
  }
}

export function loadThrottle(dir: string): ThrottleSettings | undefined {
  const file = networkFiles(dir).throttle;
  const settings = readJsonSync<ThrottleSettings>(file);
  if (settings !== undefined && !validThrottle(settings)) {
    throw new IntegrityError('AGENT_SETTINGS_DAMAGED', `${file} is not a valid throttle`, {
      hint: 'set it again with `offsite agent throttle ...`, or remove it with `offsite agent throttle none`',
    });
  }
  return settings;
}

/** null removes the throttle. */
export async function saveThrottle(dir: string, settings: ThrottleSettings | null): Promise<void> {
  const file = networkFiles(dir).throttle;
  if (settings === null) return await rm(file, { force: true });
  await ensureAgentDir(dir);
  await writeAtomic(file, `${JSON.stringify(settings, null, 2)}\n`, 0o644);
}

/** `http://host:port` (or `host:port`) → the proxy's address; credentials in it are refused. */
export function parseProxyUrl(text: string): { url: string; host: string; port: number } {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new BadInputError('BAD_PROXY_URL', `"${text}" is not a proxy URL`, {
      hint: 'e.g. http://proxy.example:3128',
    });
  }
  if (url.username || url.password) {
    throw new BadInputError('BAD_PROXY_URL', 'the proxy URL must not hold a user or password', {
      hint: 'give them as --user USER --password-file FILE, so the password stays out of shell history',
    });
  }
  if (url.protocol !== 'http:') {
    throw new BadInputError('BAD_PROXY_URL', `proxies are reached over http://, not ${url.protocol}//`, {
      hint: 'give the http:// address of the proxy: the tunnel to the vault inside it is TLS end to end',
    });
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new BadInputError('BAD_PROXY_URL', `a proxy URL is http://host:port, without a path ("${text}")`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 80 : Number(url.port);
  return { url: `http://${proxyName({ host, port })}`, host, port };
}

async function readPassword(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the proxy password file ${file} (${errnoCode(err) ?? 'error'})`,
    );
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new BadInputError('EMPTY_PASSWORD', `the proxy password file ${file} is empty`);
  return password;
}

export async function saveProxy(
  dir: string,
  options: { url: string; user?: string; passwordFile?: string },
): Promise<ProxySettings> {
  const { url } = parseProxyUrl(options.url);
  if ((options.user === undefined) !== (options.passwordFile === undefined)) {
    throw new BadInputError(
      'PROXY_CREDENTIALS_INCOMPLETE',
      'give both --user and --password-file, or neither',
    );
  }
  if (options.user !== undefined && !/^[^:\x00-\x1f\x7f]+$/.test(options.user)) {
    throw new BadInputError(
      'BAD_PROXY_USER',
      'the proxy user must be non-empty, without ":" or control characters',
    );
  }
  const password = options.passwordFile === undefined ? undefined : await readPassword(options.passwordFile);
  await ensureAgentDir(dir);
  const files = networkFiles(dir);
  if (password === undefined) await rm(files.proxyPassword, { force: true });
  else await writeAtomic(files.proxyPassword, password, 0o600);
  const settings: ProxySettings = {
    version: 1,
    url,
    ...(options.user !== undefined ? { user: options.user } : {}),
  };
  await writeAtomic(files.proxy, `${JSON.stringify(settings, null, 2)}\n`, 0o644);
  return settings;
}

export async function clearProxy(dir: string): Promise<void> {
  const files = networkFiles(dir);
  await rm(files.proxy, { force: true });
  await rm(files.proxyPassword, { force: true });
}

export function loadProxySettings(dir: string): ProxySettings | undefined {
  return readJsonSync<ProxySettings>(networkFiles(dir).proxy);
}

/** The proxy with its password, to connect through; undefined when none is set. */
export function loadProxy(dir: string): ProxyEndpoint | undefined {
  const settings = loadProxySettings(dir);
  if (!settings) return undefined;
  const { host, port } = parseProxyUrl(settings.url);
  if (settings.user === undefined) return { host, port };
  let password: string;
  try {
    password = readFileSync(networkFiles(dir).proxyPassword, 'utf8');
  } catch (err) {
    throw new IntegrityError(
      'PROXY_PASSWORD_MISSING',
      `the proxy password file in ${dir} is missing (${errnoCode(err) ?? 'error'})`,
      {
        hint: 'set the proxy again: offsite agent proxy set URL --user USER --password-file FILE',
      },
    );
  }
  return { host, port, user: settings.user, password };
}

export interface Summary {
  /** Lines for `offsite agent status`, "label:  value" like its others. */
  lines: string[];
  /** For --json. */
  json: unknown;
}

export async function throttleSummary(dir: string, now = Date.now()): Promise<Summary> {
  const settings = loadThrottle(dir);
  if (!settings) return { lines: ['throttle:     none (unlimited)'], json: null };
  const work = inWorkHours(settings, now);
  const current = work ? settings.workRate : settings.offRate;
  return {
    lines: [
      `throttle:     ${describeThrottle(settings)}`,
      `              now ${rateText(current)} (${work ? 'work hours' : 'off hours'})`,
    ],
    json: { ...settings, now: { workHours: work, rate: current } },
  };
}

export async function proxySummary(dir: string): Promise<Summary> {
  const settings = loadProxySettings(dir);
  if (!settings) return { lines: ['proxy:        none (direct connection)'], json: null };
  const user =
    settings.user === undefined
      ? ''
      : ` as ${settings.user} (password in ${networkFiles(dir).proxyPassword})`;
  return {
    lines: [`proxy:        ${settings.url}${user}`],
    json: { url: settings.url, user: settings.user ?? null },
  };
}

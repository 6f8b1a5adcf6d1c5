// Bandwidth throttling of an agent's repository data, measured through a real vault
// server over HTTPS: uploads and downloads keep to the configured rate within 10 %, and
// when the (injected) clock crosses the end of work hours mid-transfer the rate changes
// to the off-hours one. Settings are made with the real CLI, in the agent folder; the
// store is the one every repository command uses (vaultRepoStore).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  describeThrottle,
  inWorkHours,
  parseRate,
  parseWorkDays,
  parseWorkHours,
  type ThrottleSettings,
  throttleRate,
} from '../src/agent/network.ts';
import type { AgentState } from '../src/agent/state.ts';
import { vaultRepoStore } from '../src/agent/vault.ts';
import type { BlobStore } from '../src/storage/index.ts';
import { formatBytes } from '../src/util/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import {
  agentStateOf,
  registerTestAgent,
  startTestVault,
  type TestClock,
  type TestVault,
  testClock,
} from './helpers/vault.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

type T = Parameters<typeof startTestVault>[0];

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

/** An agent registered in the vault's catalog, its state in a folder of its own. */
async function agentState(t: T, v: TestVault): Promise<AgentState> {
  const agent = await registerTestAgent(v, 'prod', 'web1');
  return agentStateOf(v, agent, join(await tempDir(t, 'offsite-agent-'), 'agent'));
}

function rateOf(bytes: number, ms: number): number {
  return (bytes * 1000) / ms;
}

function within10(measured: number, configured: number, what: string): void {
  const error = measured / configured - 1;
  assert.ok(
    Math.abs(error) <= 0.1,
    `${what}: measured ${formatBytes(measured)}/s, configured ${formatBytes(configured)}/s (${(error * 100).toFixed(1)} %)`,
  );
}

/** Bytes over elapsed time for `count` operations in a row, on the real clock. */
async function timed(
  count: number,
  op: (i: number) => Promise<number>,
): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += await op(i);
  return { bytes, ms: performance.now() - started };
}

test('a throttled upload and download through the vault keep to the rate within 10 %', async (t) => {
  const v = await startTestVault(t);
  const state = await agentState(t, v);
  const env = { OFFSITE_AGENT_DIR: state.dir };
  const rate = 2 * MiB;
  await ok(
    ['agent', 'throttle', '--work-hours', '00:00-24:00', '--work-days', 'daily', '--work-rate', '2MiB/s'],
    env,
  );
  const objects = Array.from({ length: 32 }, () => randomBytes(256 * KiB));

  const store = vaultRepoStore(state);
  const up = await timed(objects.length, async (i) => {
    await store.put(`sessions/throttle-${i}`, objects[i]!);
    return objects[i]!.length;
  });
  t.diagnostic(
    `upload: ${formatBytes(up.bytes)} in ${(up.ms / 1000).toFixed(2)} s = ${formatBytes(rateOf(up.bytes, up.ms))}/s (configured 2 MiB/s)`,
  );
  within10(rateOf(up.bytes, up.ms), rate, 'upload');

  const reader: BlobStore = vaultRepoStore(state);
  const down = await timed(objects.length, async (i) => {
    const data = await reader.get(`sessions/throttle-${i}`);
    assert.ok(data.equals(objects[i]!), `object ${i} came back intact`);
    return data.length;
  });
  t.diagnostic(
    `download: ${formatBytes(down.bytes)} in ${(down.ms / 1000).toFixed(2)} s = ${formatBytes(rateOf(down.bytes, down.ms))}/s (configured 2 MiB/s)`,
  );
  within10(rateOf(down.bytes, down.ms), rate, 'download');

  await ok(['agent', 'throttle', 'none'], env);
  const free = vaultRepoStore(state);
  const unlimited = await timed(
    objects.length,
    async (i) => (await free.get(`sessions/throttle-${i}`)).length,
  );
  t.diagnostic(`without a throttle: ${formatBytes(rateOf(unlimited.bytes, unlimited.ms))}/s`);
});

/** (clock time, bytes so far) after each put, until the clock is `until`. */
async function uploadUntil(store: BlobStore, clock: TestClock, until: number, size: number) {
  const marks: { at: number; bytes: number }[] = [{ at: clock.now(), bytes: 0 }];
  for (let i = 0; clock.now() < until; i++) {
    await store.put(`sessions/switch-${i}`, randomBytes(size));
    marks.push({ at: clock.now(), bytes: marks.at(-1)!.bytes + size });
  }
  return marks;
}

test('the rate switches when the clock crosses the end of work hours during a transfer', async (t) => {
  const v = await startTestVault(t);
  const state = await agentState(t, v);
  const env = { OFFSITE_AGENT_DIR: state.dir };
  const args = ['--work-hours', '08:00-18:00', '--work-days', 'mon-fri', '--time-zone', 'Europe/Berlin'];
  await ok(['agent', 'throttle', ...args, '--work-rate', '1MiB/s', '--off-rate', '4MiB/s'], env);

  const shown = await runCli(['agent', 'throttle'], env);
  assert.match(shown.stdout, /1\.00 MiB\/s mon-fri 08:00-18:00 \(Europe\/Berlin\), 4\.00 MiB\/s otherwise/);

  // Wednesday 14 January 2026, 17:59:57 in Berlin (CET, UTC+1): 3 s of work hours left.
  const clock = testClock();
  const endOfWork = Date.UTC(2026, 0, 14, 17, 0, 0);
  clock.set(endOfWork - 3000);
  const store = vaultRepoStore(state, { clock });
  const marks = await uploadUntil(store, clock, endOfWork + 3000, 128 * KiB);

  const work = marks.filter((m) => m.at < endOfWork);
  const before = rateOf(work.at(-1)!.bytes, work.at(-1)!.at - marks[0]!.at);
  // After the boundary, from the first put that was paid wholly at the new rate.
  const off = marks.filter((m) => m.at >= endOfWork + 250);
  const after = rateOf(off.at(-1)!.bytes - off[0]!.bytes, off.at(-1)!.at - off[0]!.at);
  t.diagnostic(
    `work hours: ${formatBytes(work.at(-1)!.bytes)} at ${formatBytes(before)}/s (configured 1 MiB/s); ` +
      `off hours: ${formatBytes(off.at(-1)!.bytes - off[0]!.bytes)} at ${formatBytes(after)}/s (configured 4 MiB/s)`,
  );
  within10(before, 1 * MiB, 'work hours');
  within10(after, 4 * MiB, 'off hours');
});

async function regionBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

test('a backup by the CLI is held to the throttle set with `offsite agent throttle`', async (t) => {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const file = join(v.dir, 'web1.credentials');
  await ok(['vault', 'credentials', 'prod', '--out', file], v.env);
  const env = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_PASSWORD: 'passphrase of web1 long enough' };
  await ok(['agent', 'register', '--credentials', file, '--name', 'web1'], env);
  await ok(['init'], env);
  await ok(
    ['agent', 'throttle', '--work-hours', '00:00-24:00', '--work-days', 'daily', '--work-rate', '1MiB/s'],
    env,
  );
  const src = join(v.dir, 'src');
  await mkdir(src);
  for (let i = 0; i < 4; i++) await writeFile(join(src, `random-${i}`), randomBytes(MiB));

  const region = join(v.dir, 'regions', 'local');
  const stored = await regionBytes(region);
  const started = performance.now();
  const backup = await ok(['backup', src], env);
  const ms = performance.now() - started;
  assert.ok(backup.point?.id);
  const uploaded = (await regionBytes(region)) - stored;
  const measured = rateOf(uploaded, ms);
  t.diagnostic(
    `CLI backup: ${formatBytes(uploaded)} stored in ${(ms / 1000).toFixed(2)} s (whole command) = ${formatBytes(measured)}/s, configured 1 MiB/s`,
  );
  // The whole command also starts Node, reads and encrypts: it can only be slower.
  assert.ok(measured <= 1.1 * MiB, `the backup ran at ${formatBytes(measured)}/s`);
  assert.ok(uploaded >= 4 * MiB, `the data was uploaded (${uploaded} bytes)`);
});

test('work hours: days, rates, windows past midnight, and the time zone with its daylight saving', () => {
  assert.deepEqual(parseWorkDays('mon-fri'), ['mon', 'tue', 'wed', 'thu', 'fri']);
  assert.deepEqual(parseWorkDays('Sat,sun'), ['sat', 'sun']);
  assert.deepEqual(parseWorkDays('fri-mon'), ['mon', 'fri', 'sat', 'sun']);
  assert.equal(parseWorkDays('daily').length, 7);
  for (const bad of ['', 'weekdays', 'mon-', 'mon-tue-wed'])
    assert.throws(() => parseWorkDays(bad), { code: 'BAD_WORK_DAYS' }, bad);
  assert.deepEqual(parseWorkHours('22:00-06:00'), { start: '22:00', end: '06:00' });
  assert.deepEqual(parseWorkHours('00:00-24:00'), { start: '00:00', end: '24:00' });
  for (const bad of ['8-18', '08:00-08:00', '24:00-06:00', '08:00-18:60', '08:00'])
    assert.throws(() => parseWorkHours(bad), { code: 'BAD_WORK_HOURS' }, bad);
  assert.equal(parseRate('4MiB/s', 'r'), 4 * MiB);
  assert.equal(parseRate('500 KiB / s', 'r'), 500 * KiB);
  assert.equal(parseRate('unlimited', 'r'), null);
  for (const bad of ['fast', '100/s', '-1MiB/s'])
    assert.throws(() => parseRate(bad, 'r'), { code: 'BAD_RATE' }, bad);

  const night: ThrottleSettings = {
    version: 1,
    workHours: parseWorkHours('22:00-06:00'),
    workDays: parseWorkDays('mon-fri'),
    workRate: MiB,
    offRate: null,
    timeZone: 'UTC',
  };
  assert.equal(describeThrottle(night), '1.00 MiB/s mon-fri 22:00-06:00 (UTC), unlimited otherwise');
  const at = (iso: string) => Date.parse(iso);
  // Friday 2026-01-16 23:00 is in Friday's window; Saturday 05:59 still is; Saturday 22:00 is not.
  assert.equal(inWorkHours(night, at('2026-01-16T23:00:00Z')), true);
  assert.equal(inWorkHours(night, at('2026-01-17T05:59:00Z')), true);
  assert.equal(inWorkHours(night, at('2026-01-17T06:00:00Z')), false);
  assert.equal(inWorkHours(night, at('2026-01-17T22:00:00Z')), false);
  assert.equal(
    inWorkHours(night, at('2026-01-12T05:00:00Z')),
    false,
    'Monday morning belongs to Sunday night',
  );
  assert.equal(throttleRate(night)(at('2026-01-17T12:00:00Z')), Number.POSITIVE_INFINITY);

  // 08:00 in New York is 13:00 UTC in winter and 12:00 UTC in summer.
  const office: ThrottleSettings = {
    ...night,
    workHours: parseWorkHours('08:00-18:00'),
    timeZone: 'America/New_York',
  };
  assert.equal(inWorkHours(office, at('2026-01-14T12:30:00Z')), false);
  assert.equal(inWorkHours(office, at('2026-01-14T13:00:00Z')), true);
  assert.equal(inWorkHours(office, at('2026-07-15T12:30:00Z')), true);
  assert.equal(inWorkHours(office, at('2026-07-15T22:00:00Z')), false);
});

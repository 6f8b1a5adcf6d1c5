// The real `offsite agent run` process against a real vault, its clock shifted (the
// test-only OFFSITE_AGENT_CLOCK_OFFSET_MS) to stand just before a scheduled time: it
// backs up the policy's sources on time, stops cleanly on SIGTERM (idle, or during a
// backup it then abandons and reports), catches up once after being stopped over
// scheduled times, and `offsite agent install-service` writes a unit systemd accepts.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { DaemonEvent } from '../src/agent/daemon/index.ts';
import { loadAgentState, vaultRepoStore } from '../src/agent/index.ts';
import { fastKdfParams, Repository } from '../src/repo/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const ROOT = resolve(import.meta.dirname, '..');
const DAY = '2027-02-10';
const at = (hhmmss: string) => Date.parse(`${DAY}T${hhmmss}Z`);
const DEADLINE_MS = 120_000;

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

/** `offsite agent run` whose clock reads `fakeNow` at spawn; its JSON events as they come. */
class Daemon {
  readonly events: DaemonEvent[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #rest = '';

  constructor(
    t: { after: (fn: () => void) => void },
    env: Record<string, string>,
    fakeNow: number,
    args: string[] = [],
  ) {
    const offset = String(fakeNow - Date.now());
    this.child = spawn(process.execPath, [MAIN, 'agent', 'run', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, OFFSITE_AGENT_CLOCK_OFFSET_MS: offset },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      const lines = (this.#rest + text).split('\n');
      this.#rest = lines.pop()!;
      for (const line of lines) this.events.push(JSON.parse(line) as DaemonEvent);
    });
    this.exited = new Promise((done) => this.child.on('close', (code) => done(code)));
    // A failed assertion must not leave the daemon running (and the test file waiting on it).
    t.after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  async waitFor(what: string, match: (e: DaemonEvent) => boolean): Promise<DaemonEvent> {
    const until = Date.now() + DEADLINE_MS;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > until || this.child.exitCode !== null) {
        assert.fail(`no ${what}; events: ${JSON.stringify(this.events)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  named(event: string): DaemonEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

async function vaultJson(v: TestVault, path: string) {
  const r = await v.call(`/v1/vaults/prod${path}`);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

test('offsite agent run: on time, SIGTERM, catch-up once, abandon and resume', async (t) => {
  const v = await startTestVault(t);
  const src = join(v.dir, 'src');
  await mkdir(join(src, 'etc'), { recursive: true });
  await writeFile(join(src, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  await writeFile(join(src, 'data.bin'), randomBytes(4 << 20));
  await writeFile(join(src, 'cache.tmp'), 'skipped by the policy\n');
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const set = ['vault', 'policy', 'set', 'prod', '--times', '03:00,03:05,03:10,03:15', '--daily', '7'];
  const policy = await ok([...set, '--source', src, '--exclude', '*.tmp'], v.env);
  assert.deepEqual(policy.policy.sources, { paths: [src], excludes: ['*.tmp'] });

  const credentials = join(v.dir, 'web1.credentials');
  await ok(['vault', 'credentials', 'prod', '--out', credentials], v.env);
  const env = { OFFSITE_AGENT_DIR: join(v.dir, 'agent'), OFFSITE_PASSWORD_FILE: join(v.dir, 'pass') };
  await writeFile(env.OFFSITE_PASSWORD_FILE, 'passphrase of the process test\n', { mode: 0o600 });
  await ok(['agent', 'register', '--credentials', credentials, '--name', 'web1'], env);
  const agent = (await loadAgentState(env.OFFSITE_AGENT_DIR))!;
  await Repository.init(vaultRepoStore(agent), 'passphrase of the process test', { kdf: fastKdfParams() });

  // 0. A start long before any backup: it learns the schedule, waits, stops on SIGTERM.
  const zero = new Daemon(t, env, at('01:00:00'));
  await zero.waitFor('a wait', (e) => e.event === 'waiting');
  assert.equal(zero.named('waiting')[0]!.next, `${DAY}T03:00:00.000Z`);
  const twice = await runCli(['agent', 'run'], env);
  assert.notEqual(twice.code, 0, 'never two daemons on one agent folder');
  assert.match(twice.stderr, new RegExp(`an agent daemon already runs for .* \\(pid ${zero.child.pid}\\)`));
  const noPassphrase = await runCli(['agent', 'run'], { OFFSITE_AGENT_DIR: env.OFFSITE_AGENT_DIR });
  assert.match(noPassphrase.stderr, /the daemon cannot prompt for the passphrase/);
  assert.equal(await zero.stop(), 0, 'SIGTERM while idle: a clean exit');
  assert.equal(zero.events.at(-1)?.event, 'stopped');

  // 1. Started again at 02:59:55: backs up the 03:00 slot — on time, or at once if this
  // machine was too busy to start the daemon within those 5 seconds.
  const first = new Daemon(t, env, at('02:59:55'));
  const done = await first.waitFor(
    'a backup',
    (e) => e.event.startsWith('backup-') && e.event !== 'backup-started',
  );
  assert.equal(done.event, 'backup-succeeded', JSON.stringify(first.events));
  const waitedFor = first.events.findIndex((e) => e.event === 'waiting' && e.next === `${DAY}T03:00:00.000Z`);
  const began = first.events.findIndex((e) => e.event === 'backup-started');
  assert.deepEqual(
    [done.slot, done.reason],
    [`${DAY}T03:00:00.000Z`, waitedFor >= 0 && waitedFor < began ? 'scheduled' : 'catch-up'],
  );
  await first.waitFor('a wait for 03:05', (e) => e.event === 'waiting' && e.next === `${DAY}T03:05:00.000Z`);
  assert.equal(await first.stop(), 0);
  assert.equal(first.events.at(-1)?.event, 'stopped');
  const points = (await vaultJson(v, '/points')).points;
  assert.equal(points.length, 1);
  assert.equal(points[0].time.slice(0, 16), `${DAY}T03:00`);
  assert.equal(points[0].stats.filesNew, 2, 'hosts and data.bin; cache.tmp excluded');

  // 2. Stopped over 03:05 and 03:10, started at 03:12: one catch-up backup, then on schedule.
  const second = new Daemon(t, env, at('03:12:00'));
  await second.waitFor('a wait after the catch-up', (e) => e.event === 'waiting');
  assert.deepEqual(
    second.named('backup-started').map((e) => [e.slot, e.reason]),
    [[`${DAY}T03:10:00.000Z`, 'catch-up']],
  );
  assert.equal(second.named('backup-succeeded').length, 1);
  assert.equal(second.named('waiting')[0]!.next, `${DAY}T03:15:00.000Z`);
  assert.equal(await second.stop(), 0);
  assert.equal((await vaultJson(v, '/points')).points.length, 2);

  // 3. A new large file, and SIGTERM while the 03:15 backup runs, with no grace: abandoned.
  await writeFile(join(src, 'big.bin'), randomBytes(64 << 20));
  const third = new Daemon(t, env, at('03:14:58'), ['--stop-grace', '0']);
  await third.waitFor('the 03:15 backup', (e) => e.event === 'backup-started');
  const until = Date.now() + DEADLINE_MS;
  while (
    !(await vaultJson(v, '/jobs?server=web1')).jobs.some((j: { status: string }) => j.status === 'running')
  ) {
    assert.ok(Date.now() < until, 'the backup job started in the vault');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await third.stop(), 0, 'SIGTERM during a backup: a clean exit');
  const outcome = third.events.find((e) => /^backup-(abandoned|succeeded)$/.test(e.event));
  assert.ok(outcome, JSON.stringify(third.events));
  assert.equal(third.events.at(-1)?.event, 'stopped');
  const newest = (await vaultJson(v, '/jobs?server=web1')).jobs[0];
  if (outcome.event === 'backup-abandoned') {
    assert.equal(newest.status, 'failed');
    assert.match(newest.error, /stopped while this backup ran/);
    assert.equal((await vaultJson(v, '/points')).points.length, 2);
  } else {
    assert.equal(newest.status, 'succeeded', 'the backup finished before the signal arrived');
  }
  const check = await runCli(['check'], env);
  assert.equal(check.code, 0, `the repository is sound after the stop: ${check.stdout}${check.stderr}`);

  // 4. The next start runs the abandoned slot again (or nothing, if it had finished).
  const fourth = new Daemon(t, env, at('03:16:00'));
  await fourth.waitFor('a wait', (e) => e.event === 'waiting');
  assert.equal(fourth.named('backup-succeeded').length, outcome.event === 'backup-abandoned' ? 1 : 0);
  assert.equal(await fourth.stop(), 0);
  assert.equal((await vaultJson(v, '/points')).points.length, 3);
  assert.equal(
    new Set((await vaultJson(v, '/jobs?server=web1')).jobs.map((j: { status: string }) => j.status)).has(
      'running',
    ),
    false,
  );
});

test('install-service writes a template unit and a drop-in for the agent folder', async (t) => {
  const dir = await tempDir(t, 'offsite-units-');
  const agentDir = join(dir, 'agents', 'web-1');
  const unitDir = join(dir, 'units');
  const passwordFile = join(dir, 'secret pass');
  const args = ['agent', 'install-service', '--agent-dir', agentDir, '--user', 'backup'];
  const r = await runCli([...args, '--password-file', passwordFile, '--unit-dir', unitDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const installed = lastJson(r);
  const escaped = agentDir.slice(1).replaceAll('-', '\\x2d').replaceAll('/', '-');
  assert.equal(installed.unit, `offsite-agent@${escaped}.service`);
  assert.equal(installed.reloaded, false, 'not the real unit folder: no daemon-reload');
  assert.match(r.stderr, /holds no registration yet/);

  const template = await readFile(join(unitDir, 'offsite-agent@.service'), 'utf8');
  const packaged = await readFile(join(ROOT, 'packaging', 'offsite-agent@.service'), 'utf8');
  const exec = `ExecStart=${process.execPath} --max-semi-space-size=8 ${join(ROOT, 'bin', 'offsite.js')} agent run`;
  assert.ok(template.includes(`\n${exec}\n`), template);
  assert.equal(
    template.replace(exec, 'ExecStart=/usr/bin/offsite agent run'),
    packaged,
    'same unit as packaged',
  );
  for (const line of [
    'Environment="OFFSITE_AGENT_DIR=%f"',
    'AssertPathExists=%f/agent.json',
    'After=network-online.target',
    'Restart=on-failure',
    'WantedBy=multi-user.target',
  ]) {
    assert.ok(template.includes(`\n${line}\n`), line);
  }
  const dropIn = await readFile(join(unitDir, `${installed.unit}.d`, 'offsite.conf'), 'utf8');
  assert.match(dropIn, /^\[Service\]$/m);
  assert.match(dropIn, /^User=backup$/m);
  assert.ok(dropIn.includes(`\nEnvironment="OFFSITE_PASSWORD_FILE=${passwordFile}"\n`), dropIn);

  // Where systemd's own tools are installed, they agree on the name and accept the unit.
  const tool = (command: string, args: string[], env: Record<string, string> = {}) => {
    try {
      return execFileSync(command, args, {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        stdio: 'pipe',
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const spelled = tool('systemd-escape', ['--path', agentDir]);
  if (spelled !== undefined) assert.equal(installed.unit, `offsite-agent@${spelled.trim()}.service`);
  tool('systemd-analyze', ['verify', installed.unit], { SYSTEMD_UNIT_PATH: `${unitDir}:` });
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type Assignment, type Command, executeCommand } from './commands.ts';
import type { DrContext } from './context.ts';
import { FencingStore } from './fencing.ts';
import { fenceFromHeartbeat } from './fencing-watch.ts';
import { drLayout } from './layout.ts';
import { isAlive, ProcessTable, processId } from './processes.ts';

// The command kinds that start and stop workload copies, with real processes: a shell
// that listens on a TCP port (node) as the workload, its TCP probe, its pid recorded.

async function temp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-lifecycle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const SERVE = `const s=require('net').createServer(c=>c.end()).listen(Number(process.env.P)+Number(process.env.OFFSITE_DR_PORT_OFFSET||0),'127.0.0.1');process.on('SIGTERM',()=>process.exit(0));require('fs').writeFileSync(process.env.OUT,JSON.stringify(process.env))`;

async function setup(t: TestContext, site = 'dc1') {
  const dir = await temp(t);
  const port = await freePort();
  const layout = drLayout(dir);
  const ctx: DrContext = {
    site,
    layout,
    fencing: new FencingStore(layout.fencing),
    processes: new ProcessTable(layout.processes),
    baseEnv: { PATH: process.env.PATH, P: String(port) },
  };
  const out = join(dir, 'env.json');
  const w: Assignment = {
    name: 'app',
    version: 1,
    role: 'primary',
    fencingEpoch: 2,
    activeSite: 'dc1',
    primarySite: 'dc1',
    replicaSite: 'dc2',
    spec: {
      start: `OUT='${out}' exec '${process.execPath}' -e "${SERVE}"`,
      stop: 'kill -TERM "$OFFSITE_DR_PID"',
      health: { type: 'tcp', host: '127.0.0.1', port, timeoutMs: 1000 },
    },
  };
  t.after(async () => {
    for (const r of await ctx.processes.list()) if (await isAlive(r)) process.kill(-r.pid, 'SIGKILL');
  });
  let n = 0;
  const run = (kind: string, payload: Record<string, unknown>, workloads = [w]) =>
    executeCommand({ id: String(++n), kind, payload } satisfies Command, workloads, ctx);
  return { dir, port, ctx, w, out, run };
}

describe('start, stop, fence and cleanup-test', () => {
  it('starts once (idempotent), records the pid, refuses a stale epoch, stops with the stop command', async (t) => {
    const { ctx, run, w } = await setup(t);
    const started = await run('start', { workload: 'app', epoch: 2, mode: 'real', timeoutMs: 20_000 });
    assert.equal(started.state, 'succeeded', JSON.stringify(started.result));
    assert.deepEqual(
      started.result.steps.map((s) => s.name),
      ['fencing', 'start', 'health tcp'],
    );
    const again = await run('start', { workload: 'app', epoch: 2, mode: 'real' });
    assert.equal(again.result.pid, started.result.pid);
    assert.match(again.result.steps[1]!.detail, /already running/);
    const record = (await ctx.processes.get(processId('real', 'app', null)))!;
    assert.equal(record.pid, started.result.pid);
    assert.equal(await isAlive(record), true);
    // A restarted site agent reads the same records and the same epochs.
    assert.equal((await new ProcessTable(ctx.layout.processes).running(record.id))?.pid, record.pid);

    const underIt = await run('materialise', { workload: 'app', point: 'latest', mode: 'real', runId: 'r' });
    assert.match(underIt.result.steps[0]!.detail, /^WORKLOAD_RUNNING:/);
    const notHere = await run('materialise', { workload: 'app', mode: 'real', runId: 'r' }, [
      { ...w, activeSite: 'dc2', fencingEpoch: 3 },
    ]);
    assert.match(notHere.result.steps[0]!.detail, /^NOT_ACTIVE: app is active at dc2/);

    const stale = await run('start', { workload: 'app', epoch: 1, mode: 'real' });
    assert.equal(stale.state, 'failed');
    assert.match(stale.result.steps[0]!.detail, /^FENCED: epoch 1 of app is stale/);
    const elsewhere = await run('start', { workload: 'app', epoch: 2, mode: 'real' }, [
      { ...w, activeSite: 'dc2' },
    ]);
    assert.match(elsewhere.result.steps[0]!.detail, /^NOT_ACTIVE:/);

    const stopped = await run('stop', { workload: 'app', epoch: 2 });
    assert.equal(stopped.state, 'succeeded', JSON.stringify(stopped.result));
    assert.equal(await isAlive(record), false);
    assert.equal(await ctx.processes.get(record.id), undefined);
    const twice = await run('stop', { workload: 'app', epoch: 2 });
    assert.equal(twice.state, 'succeeded');
  });

  it('a test copy gets its folder, shifted port and run in its env; cleanup-test leaves nothing', async (t) => {
    const { ctx, run, port, out } = await setup(t);
    await mkdir(ctx.layout.testCopy('run-1', 'app'), { recursive: true });
    const started = await run('start', {
      workload: 'app',
      epoch: 2,
      mode: 'test',
      runId: 'run-1',
      portOffset: 7,
      env: { EXTRA: 'yes' },
      timeoutMs: 20_000,
    });
    assert.equal(started.state, 'succeeded', JSON.stringify(started.result));
    assert.match(started.result.steps[2]!.detail, new RegExp(`:${port + 7}`));
    const env = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(env.OFFSITE_DR_MODE, 'test');
    assert.equal(env.OFFSITE_DR_ROOT, ctx.layout.testCopy('run-1', 'app'));
    assert.equal(env.OFFSITE_DR_PORT_OFFSET, '7');
    assert.equal(env.OFFSITE_DR_RUN, 'run-1');
    assert.equal(env.EXTRA, 'yes');
    const probed = await run('probe', { workload: 'app', mode: 'test', runId: 'run-1' });
    assert.equal(probed.result.healthy, true, JSON.stringify(probed.result));
    const record = (await ctx.processes.get(processId('test', 'app', 'run-1')))!;
    const cleaned = await run('cleanup-test', { runId: 'run-1' });
    assert.equal(cleaned.state, 'succeeded', JSON.stringify(cleaned.result));
    assert.deepEqual(cleaned.result.leftovers, []);
    assert.equal(await isAlive(record), false);
    await assert.rejects(stat(ctx.layout.testRun('run-1')), { code: 'ENOENT' });
    const bad = await run('cleanup-test', { runId: '../etc' });
    assert.match(bad.result.steps[0]!.detail, /^BAD_RUN_ID:/);
  });

  it('a fence to another site stops the copy; a returning old primary stops its copy by itself', async (t) => {
    const { ctx, run, w } = await setup(t);
    assert.equal(
      (await run('start', { workload: 'app', epoch: 2, mode: 'real', timeoutMs: 20_000 })).state,
      'succeeded',
    );
    const first = (await ctx.processes.get(processId('real', 'app', null)))!;
    const fenced = await run('fence', { workload: 'app', epoch: 3, activeSite: 'dc2' });
    assert.equal(fenced.state, 'succeeded', JSON.stringify(fenced.result));
    assert.equal(fenced.result.active, false);
    assert.equal(await isAlive(first), false);

    // The heartbeat path: the copy runs again (the site restarted it), the answer shows epoch 4 at dc2.
    const { ctx: ctx2, run: run2 } = await setup(t);
    assert.equal(
      (await run2('start', { workload: 'app', epoch: 2, mode: 'real', timeoutMs: 20_000 })).state,
      'succeeded',
    );
    const copy = (await ctx2.processes.get(processId('real', 'app', null)))!;
    await fenceFromHeartbeat(ctx2, { ...w, fencingEpoch: 2 }, () => {});
    assert.equal(await isAlive(copy), true, 'still active here: nothing stops');
    const logs: string[] = [];
    await fenceFromHeartbeat(ctx2, { ...w, fencingEpoch: 4, activeSite: 'dc2', role: 'primary' }, (m) =>
      logs.push(m),
    );
    assert.equal(await isAlive(copy), false);
    assert.deepEqual(logs, ['fenced: stopped the local copy']);
    assert.deepEqual(await ctx2.fencing.get('app'), { epoch: 4, activeSite: 'dc2' });
    const refused = await run2('start', { workload: 'app', epoch: 2, mode: 'real' });
    assert.match(refused.result.steps[0]!.detail, /^FENCED:/);
  });

  it('script runs with a timeout and reports its exit code and output tail', async (t) => {
    const { run, dir } = await setup(t);
    const okRun = await run('script', { command: 'echo hello; echo there', timeoutMs: 5000 });
    assert.equal(okRun.state, 'succeeded');
    assert.equal(okRun.result.exitCode, 0);
    assert.equal(okRun.result.output, 'hello\nthere\n');
    const failed = await run('script', { command: 'echo oops >&2; exit 3', timeoutMs: 5000 });
    assert.equal(failed.state, 'failed');
    assert.match(failed.result.steps[0]!.detail, /^SCRIPT_FAILED: the script exited 3: oops/);
    const marker = join(dir, 'late');
    const slow = await run('script', { command: `sleep 5; touch '${marker}'`, timeoutMs: 300 });
    assert.match(slow.result.steps[0]!.detail, /^SCRIPT_FAILED: the script did not finish within 300 ms/);
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(stat(marker), { code: 'ENOENT' });
  });
});

// The vault server killed (SIGKILL) while an agent uploads: nothing committed is lost,
// no partial object is ever visible in the region, and the backup finishes on the next
// run (or resumes by itself when the server is back within the agent's retries).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const MiB = 1024 * 1024;

/** `offsite server` as its own process, resolved once it listens. */
async function startServerProcess(data: string, region: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [MAIN, 'server', '--data', data, '--listen', `127.0.0.1:${port}`, '--region', `local=file://${region}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 200 && !out.includes('listening on'); i++) await sleep(50);
  assert.match(out, /listening on/, 'the server started');
  return child;
}

async function packFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (/^[0-9a-f]{64}$/.test(e.name) && d.includes('/repo/data/')) found.push(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

test('SIGKILL of the vault server during an upload loses nothing and leaves no partial object', async (t) => {
  const dir = await tempDir(t, 'offsite-kill-');
  const data = join(dir, 'data');
  const region = join(dir, 'region');
  const port = await freePort();
  let server = await startServerProcess(data, region, port);
  t.after(() => {
    server.kill('SIGKILL');
  });
  const admin = {
    OFFSITE_SERVER: `https://127.0.0.1:${port}`,
    OFFSITE_CA_CERT: join(data, 'ca.pem'),
    OFFSITE_TOKEN: (await readFile(join(data, 'admin-token'), 'utf8')).trim(),
  };
  await ok(['vault', 'create', 'prod', '--region', 'local'], admin);
  await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
  const agent = { OFFSITE_AGENT_DIR: join(dir, 'agent'), OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
  await writeFile(agent.OFFSITE_PASSWORD_FILE, 'a passphrase for the kill test\n');
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agent);
  await ok(['init'], agent);

  const first = join(dir, 'first');
  await makeTree(first, { smallFiles: 50, largeFileBytes: 2 * MiB, seed: 11 });
  const committed = await ok(['backup', first], agent);

  const big = join(dir, 'big');
  await makeTree(big, { smallFiles: 20, largeFileBytes: 64 * MiB, seed: 12 });
  const before = (await packFiles(region)).length;
  const backup = runCli(['backup', big, '--json'], agent);
  for (let i = 0; i < 600 && (await packFiles(region)).length < before + 1; i++) await sleep(20);
  server.kill('SIGKILL');
  await new Promise((done) => server.once('exit', done));
  server = await startServerProcess(data, region, port);
  const interrupted = await backup;
  t.diagnostic(
    `the interrupted backup ${interrupted.code === 0 ? 'resumed by itself' : `failed: ${interrupted.stderr.trim()}`}`,
  );
  if (interrupted.code !== 0) await ok(['backup', big], agent);

  // Nothing partial: every object the region lists is whole (packs hash to their names).
  const store = openStore(`file://${region}`);
  for await (const o of store.list('')) {
    const name = o.name.split('/').at(-1)!;
    if (!o.name.includes('/repo/data/')) continue;
    const digest = createHash('sha256')
      .update(await store.get(o.name))
      .digest('hex');
    assert.equal(digest, name, `${o.name} is whole`);
  }
  await ok(['check', '--read-data'], agent);
  const restoredFirst = join(dir, 'r1');
  await ok(['restore', committed.id, '--target', restoredFirst], agent);
  assert.deepEqual(await compareTrees(first, join(restoredFirst, first)), []);
  const restoredBig = join(dir, 'r2');
  await ok(['restore', 'latest', '--target', restoredBig], agent);
  assert.deepEqual(await compareTrees(big, join(restoredBig, big)), []);
  const points = await ok(['vault', 'points', 'prod'], admin);
  assert.equal(points.points.length, 2);
});

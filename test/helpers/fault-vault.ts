// A vault server as its own process (so it can be SIGKILLed, size-limited or put behind a
// relay) with one agent registered through a real credentials file, for the fault tests.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentDir, loadAgentState, vaultRepoStore } from '../../src/agent/index.ts';
import { fastKdfParams, Repository } from '../../src/repo/index.ts';
import { type BlobStore, openStore } from '../../src/storage/index.ts';
import { type CliResult, lastJson, runCli } from './cli.ts';
import { freePort } from './ports.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
export const FAULT_PASSPHRASE = 'a passphrase for the fault tests';

export interface VaultProcessOptions {
  /** The server's data folder (catalog, CA, admin token). */
  data: string;
  /** The region's URL (file:///…, s3://…). */
  regionUrl: string;
  port: number;
  /** The URL agents are told to use (a relay in front of the server). */
  publicUrl?: string;
  /** More environment for the server (region credentials). */
  env?: Record<string, string>;
  /** Receives the server's log (stderr, one JSON object per line). */
  onLog?: (text: string) => void;
}

/** `offsite server` as its own process, resolved once it listens. */
export async function startVaultProcess(o: VaultProcessOptions): Promise<ChildProcess> {
  const args = [MAIN, 'server', '--data', o.data, '--listen', `127.0.0.1:${o.port}`];
  args.push('--region', `local=${o.regionUrl}`);
  if (o.publicUrl) args.push('--public-url', o.publicUrl);
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => {
    out += d;
    o.onLog?.(String(d));
  });
  for (let i = 0; i < 400 && !out.includes('listening on') && child.exitCode === null; i++) await sleep(50);
  assert.match(out, /listening on/, `the vault server started: ${out}`);
  return child;
}

export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/** A command that must succeed; its --json answer. */
// biome-ignore lint/suspicious/noExplicitAny: parsed output of the command under test
export async function ok(args: string[], env: Record<string, string>): Promise<any> {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

export interface FaultVault {
  /** The running server process (replaced by restart). */
  server: ChildProcess;
  port: number;
  admin: Record<string, string>;
  agent: Record<string, string>;
  regionUrl: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  backup(paths: string[]): Promise<CliResult>;
  /** Answers with a 5xx status the server logged so far (over restarts). */
  server5xx(): number;
}

/**
 * Starts the server, creates vault "prod", registers one agent with a credentials file
 * (`offsite agent register`) and creates its repository with `packSize` (small packs, so
 * an interrupted backup has stored some) and a cheap KDF (the format is the same).
 */
export async function startFaultVault(
  t: { after: (fn: () => Promise<void>) => void },
  dir: string,
  options: {
    regionUrl?: string;
    packSize?: number;
    publicUrl?: (port: number) => Promise<string>;
    serverEnv?: Record<string, string>;
  } = {},
): Promise<FaultVault> {
  const data = join(dir, 'data');
  const regionUrl = options.regionUrl ?? `file://${join(dir, 'region')}`;
  const port = await freePort();
  const publicUrl = options.publicUrl ? await options.publicUrl(port) : undefined;
  let server5xx = 0;
  const onLog = (text: string) => {
    server5xx += (text.match(/"status":5\d\d/g) ?? []).length;
  };
  const spec = {
    data,
    regionUrl,
    port,
    ...(publicUrl ? { publicUrl } : {}),
    env: options.serverEnv ?? {},
    onLog,
  };
  const v = { server: await startVaultProcess(spec) } as FaultVault;
  t.after(() => killProcess(v.server));
  v.port = port;
  v.server5xx = () => server5xx;
  v.regionUrl = regionUrl;
  v.kill = () => killProcess(v.server);
  v.restart = async () => {
    await killProcess(v.server);
    v.server = await startVaultProcess(spec);
  };
  v.admin = {
    OFFSITE_SERVER: `https://127.0.0.1:${port}`,
    OFFSITE_CA_CERT: join(data, 'ca.pem'),
    OFFSITE_TOKEN: (await readFile(join(data, 'admin-token'), 'utf8')).trim(),
  };
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.admin);
  await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], v.admin);
  v.agent = { OFFSITE_AGENT_DIR: join(dir, 'agent'), OFFSITE_PASSWORD_FILE: join(dir, 'pass') };
  await writeFile(v.agent.OFFSITE_PASSWORD_FILE!, `${FAULT_PASSPHRASE}\n`);
  await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], v.agent);
  const state = await loadAgentState(agentDir({ OFFSITE_AGENT_DIR: v.agent.OFFSITE_AGENT_DIR }));
  await Repository.init(vaultRepoStore(state!), FAULT_PASSPHRASE, {
    kdf: fastKdfParams(),
    config: options.packSize ? { packSize: options.packSize } : {},
  });
  v.backup = (paths) => runCli(['backup', ...paths, '--json'], v.agent);
  return v;
}

/** The bytes of all packs in the region (what a backup uploads). */
export async function packBytes(store: BlobStore): Promise<number> {
  let n = 0;
  for await (const o of store.list('')) if (o.name.includes('/repo/data/')) n += o.size;
  return n;
}

/**
 * Every object the region lists that is named by a SHA-256 (packs, indexes, snapshots,
 * keys, sessions) hashes to its name, so none is partial; returns the names that do not,
 * and how many were checked.
 */
export async function partialObjects(
  regionUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ bad: string[]; checked: number }> {
  const store = openStore(regionUrl, env);
  const bad: string[] = [];
  let checked = 0;
  for await (const o of store.list('')) {
    const name = o.name.split('/').at(-1)!;
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    checked++;
    const digest = createHash('sha256')
      .update(await store.get(o.name))
      .digest('hex');
    if (digest !== name) bad.push(o.name);
  }
  return { bad, checked };
}

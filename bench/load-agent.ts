// One agent of the load bench, as its own process: registers with its own credentials
// file (real registration: its own key pair, a client certificate issued by the vault),
// backs up its own small data set again and again until the deadline, then restores
// every recovery point it committed and compares it byte for byte. It times every HTTPS
// request it makes (client side, from request start to the answer's headers) through
// Node's http diagnostics channels, so nothing in the agent code is wrapped or changed.
import { createHash, randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { AgentState } from '../src/agent/index.ts';
import { backupToVault, registerWithCredentialsFile, vaultRepoStore } from '../src/agent/index.ts';
import { fastKdfParams, findSnapshot, Repository, restore } from '../src/repo/index.ts';
import { addSample, routeGroup, type Samples } from './load-stats.ts';

export type ToAgent =
  | { type: 'register'; credentialsFile: string; name: string }
  | { type: 'start'; deadline: number; maxBackups: number };

export interface AgentReport {
  name: string;
  backups: number;
  failed: { phase: 'backup' | 'restore'; message: string }[];
  restored: number;
  bytesProcessed: number;
  bytesStored: number;
  requests: number;
  /** Date.now() when its last backup ended (the restores follow). */
  backupsEndedAt: number;
  samples: Samples;
}

export type FromAgent =
  | { type: 'registered' }
  | { type: 'done'; report: AgentReport }
  | { type: 'error'; message: string };

const PASSPHRASE = 'the load bench passphrase, long enough';
const started = new WeakMap<ClientRequest, number>();
const samples: Samples = {};
let requests = 0;

subscribe('http.client.request.start', (m) => {
  started.set((m as { request: ClientRequest }).request, performance.now());
});
subscribe('http.client.response.finish', (m) => {
  const { request } = m as { request: ClientRequest };
  const t0 = started.get(request);
  if (t0 === undefined) return;
  requests++;
  addSample(samples, routeGroup(request.method, request.path), performance.now() - t0);
});

type Manifest = Map<string, string>;

async function manifestOf(root: string): Promise<Manifest> {
  const out: Manifest = new Map();
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(
      relative(root, path),
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    );
  }
  return out;
}

function sameManifest(a: Manifest, b: Manifest): string | undefined {
  if (a.size !== b.size) return `${b.size} files restored, ${a.size} expected`;
  for (const [path, hash] of a) if (b.get(path) !== hash) return `${path} differs or is missing`;
  return undefined;
}

/** A distinct small data set: 10 files of 4–32 KiB and one of 256 KiB, all random. */
async function makeDataSet(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < 10; i++) await writeFile(join(dir, `small-${i}`), randomBytes(4096 * (1 + (i % 8))));
  await writeFile(join(dir, 'large'), randomBytes(256 * 1024));
}

/** Between backups: one file rewritten, one added. */
async function changeDataSet(dir: string, round: number): Promise<void> {
  await writeFile(join(dir, `small-${round % 10}`), randomBytes(8192));
  await writeFile(join(dir, `added-${round}`), randomBytes(16 * 1024));
}

interface Point {
  snapshotId: string;
  manifest: Manifest;
}

async function backupLoop(
  state: AgentState,
  data: string,
  deadline: number,
  max: number,
  report: AgentReport,
) {
  const repo = await Repository.init(vaultRepoStore(state), PASSPHRASE, { kdf: fastKdfParams() });
  const points: Point[] = [];
  for (let round = 0; round < max && (round === 0 || Date.now() < deadline); round++) {
    if (round > 0) await changeDataSet(data, round);
    try {
      const { result } = await backupToVault(state, repo, { paths: [data] });
      const s = result.snapshot.stats;
      report.backups++;
      report.bytesProcessed += s.bytesProcessed;
      report.bytesStored += s.bytesAddedStored + s.treeBytesAddedStored;
      points.push({ snapshotId: result.id, manifest: await manifestOf(data) });
    } catch (err) {
      report.failed.push({ phase: 'backup', message: (err as Error).message });
    }
  }
  return points;
}

async function restoreAll(state: AgentState, data: string, points: readonly Point[], report: AgentReport) {
  const repo = await Repository.open(vaultRepoStore(state), PASSPHRASE);
  await repo.loadIndex();
  for (const point of points) {
    const target = await mkdtemp(join(tmpdir(), 'offsite-load-restore-'));
    try {
      await restore(repo, await findSnapshot(repo, point.snapshotId), { target });
      const problem = sameManifest(point.manifest, await manifestOf(join(target, data)));
      if (problem) report.failed.push({ phase: 'restore', message: `${point.snapshotId}: ${problem}` });
      else report.restored++;
    } catch (err) {
      report.failed.push({ phase: 'restore', message: `${point.snapshotId}: ${(err as Error).message}` });
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  const dir = process.env.OFFSITE_AGENT_DIR!;
  let state: AgentState | undefined;
  let name = '';
  process.on('message', async (m: ToAgent) => {
    try {
      if (m.type === 'register') {
        name = m.name;
        state = await registerWithCredentialsFile({ dir, credentialsFile: m.credentialsFile, name });
        process.send!({ type: 'registered' } satisfies FromAgent);
        return;
      }
      const data = join(dir, 'data');
      await makeDataSet(data);
      const report: AgentReport = {
        name,
        backups: 0,
        failed: [],
        restored: 0,
        bytesProcessed: 0,
        bytesStored: 0,
        requests: 0,
        backupsEndedAt: 0,
        samples,
      };
      const points = await backupLoop(state!, data, m.deadline, m.maxBackups, report);
      report.backupsEndedAt = Date.now();
      report.requests = requests;
      await restoreAll(state!, data, points, report);
      process.send!({ type: 'done', report } satisfies FromAgent, () => process.disconnect());
    } catch (err) {
      process.send!({ type: 'error', message: (err as Error).message } satisfies FromAgent, () =>
        process.disconnect(),
      );
    }
  });
}

await main();

// A replica site agent's server and a primary's replicator, wired as in production
// (mutual TLS on loopback, vault CA only), for the replication tests.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  ReplicaServer,
  Replicator,
  type ReplicatorOptions,
  type ReplicaWorkload,
  type SiteTls,
} from '../../src/dr/replication/index.ts';
import { fastKdfParams } from '../../src/repo/index.ts';
import { makeCa, siteAgentTls, type TestCa } from './dr-sites.ts';

export const PRIMARY = 'site-agent-paris';
export const REPLICA = 'site-agent-lyon';
/** Small chunks and packs so a few MiB make many packs (the format is the same). */
export const TEST_REPO_CONFIG = {
  packSize: 256 * 1024,
  chunker: { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 },
};

export interface DrSites {
  dir: string;
  ca: TestCa;
  primaryTls: SiteTls;
  replicaTls: SiteTls;
  replicaRoot: string;
  server: ReplicaServer;
  port: number;
}

export async function tempDir(t: TestContext, prefix = 'offsite-dr-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startSites(t: TestContext, workloads: ReplicaWorkload[]): Promise<DrSites> {
  const dir = await tempDir(t);
  const ca = makeCa();
  const replicaTls = siteAgentTls(ca, REPLICA);
  const replicaRoot = join(dir, 'lyon', 'replication');
  const server = new ReplicaServer({ root: replicaRoot, tls: replicaTls, workloads });
  const port = await server.listen();
  t.after(() => server.close());
  return { dir, ca, primaryTls: siteAgentTls(ca, PRIMARY), replicaTls, replicaRoot, server, port };
}

export function makeReplicator(
  t: TestContext,
  sites: DrSites,
  options: Partial<ReplicatorOptions> & Pick<ReplicatorOptions, 'source'>,
): Replicator {
  const replicator = new Replicator({
    replica: { url: `https://127.0.0.1:${sites.port}`, name: REPLICA },
    tls: sites.primaryTls,
    key: 'workload key for tests, 32 chars',
    stateDir: join(sites.dir, 'paris', 'state', options.source.workload),
    kdf: fastKdfParams(),
    repoConfig: TEST_REPO_CONFIG,
    retry: { attempts: 2, sleep: async () => {} },
    ...options,
  });
  t.after(() => replicator.close());
  return replicator;
}

/** A workload's data folder: random (incompressible) files, small text files, a symlink. */
export async function makeData(dir: string, files = 6, fileBytes = 512 * 1024): Promise<string> {
  const data = join(dir, 'paris', 'srv', 'shop', 'data');
  await mkdir(join(data, 'sub', 'deeper'), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(data, `table-${i}.bin`), randomBytes(fileBytes));
  await writeFile(join(data, 'sub', 'settings.conf'), 'max_connections = 100\n');
  await writeFile(join(data, 'sub', 'deeper', 'empty'), '');
  await symlink('settings.conf', join(data, 'sub', 'current.conf'));
  return data;
}

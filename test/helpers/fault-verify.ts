// What a recovery point must hold, and the check that it restores to exactly that.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { agentDir, loadAgentState, vaultRepoStore } from '../../src/agent/index.ts';
import { findSnapshot, Repository, restore } from '../../src/repo/index.ts';

/** relative path → SHA-256 of the content, for every file under root. */
export type Manifest = Map<string, string>;

export async function manifestOf(root: string): Promise<Manifest> {
  const out: Manifest = new Map();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile())
        out.set(
          relative(root, path),
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
        );
    }
  };
  await walk(root);
  return out;
}

/** Differences between what was backed up and what came back, one line each. */
export function manifestDiff(expected: Manifest, actual: Manifest): string[] {
  const problems: string[] = [];
  for (const [path, hash] of expected) {
    const got = actual.get(path);
    if (got === undefined) problems.push(`${path}: missing`);
    else if (got !== hash) problems.push(`${path}: different content`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`${path}: unexpected`);
  return problems;
}

export interface ExpectedPoint {
  snapshotId: string;
  /** The folder that was backed up (restored under target + root). */
  root: string;
  manifest: Manifest;
}

/**
 * Restores each point from the vault with the agent's certificate and passphrase (a
 * fresh repository handle, as a new process has) and compares it byte for byte.
 * Returns the problems, prefixed with the snapshot id.
 */
export async function restoreEach(
  agentEnv: Record<string, string>,
  passphrase: string,
  points: readonly ExpectedPoint[],
): Promise<string[]> {
  const state = await loadAgentState(agentDir({ OFFSITE_AGENT_DIR: agentEnv.OFFSITE_AGENT_DIR }));
  if (!state) return ['the agent is not registered'];
  const repo = await Repository.open(vaultRepoStore(state), passphrase);
  await repo.loadIndex();
  const problems: string[] = [];
  for (const point of points) {
    const target = await mkdtemp(join(tmpdir(), 'offsite-fault-restore-'));
    try {
      const ref = await findSnapshot(repo, point.snapshotId);
      const result = await restore(repo, ref, { target });
      for (const e of result.errors)
        problems.push(`${point.snapshotId.slice(0, 8)}: ${e.path}: ${e.message}`);
      const got = await manifestOf(join(target, point.root));
      for (const p of manifestDiff(point.manifest, got))
        problems.push(`${point.snapshotId.slice(0, 8)}: ${p}`);
    } catch (err) {
      problems.push(`${point.snapshotId.slice(0, 8)}: ${(err as Error).message}`);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  }
  return problems;
}

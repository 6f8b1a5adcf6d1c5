import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../util/index.ts';
import { permanentRefusal } from './jobs.ts';
import type { AgentState } from './state.ts';
import { agentClient } from './vault.ts';

// A recovery point whose commit did not reach the vault (it went away between storing the
// snapshot and committing it) is kept as the commit request itself, in
// <agent>/pending-points/<snapshot>.json, and committed before the next backup. Until
// then the vault shows no recovery point for that snapshot; once committed, the data the
// backup uploaded counts. A commit the vault refuses for good (a pack collected meanwhile)
// is dropped: the next backup stores that data anew.

export interface PointCommit {
  snapshot: string;
  time: string;
  stats: Record<string, unknown>;
  packs: string[];
}

export interface PendingOutcome {
  committed: string[];
  dropped: { snapshot: string; reason: string }[];
  /** Why the rest waits (the vault still unreachable), if some does. */
  waiting?: string;
}

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;

function pendingDir(state: AgentState): string {
  return join(state.dir, 'pending-points');
}

export async function postPointCommit(state: AgentState, commit: PointCommit): Promise<unknown> {
  return agentClient(state).call('POST', '/v1/agent/points', commit);
}

/** Keeps a commit that failed for a reason a later try can overcome; true if kept. */
export async function keepIfRetryable(
  state: AgentState,
  commit: PointCommit,
  err: unknown,
): Promise<boolean> {
  if (permanentRefusal(err) !== undefined || !SNAPSHOT_ID.test(commit.snapshot)) return false;
  await mkdir(pendingDir(state), { recursive: true, mode: 0o700 });
  await writeAtomic(join(pendingDir(state), `${commit.snapshot}.json`), JSON.stringify(commit), 0o600);
  return true;
}

async function pendingFiles(state: AgentState): Promise<string[]> {
  try {
    return (await readdir(pendingDir(state))).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Commits every kept point, oldest name first; stops at the first transient failure. */
export async function commitPendingPoints(state: AgentState): Promise<PendingOutcome> {
  const outcome: PendingOutcome = { committed: [], dropped: [] };
  for (const name of await pendingFiles(state)) {
    const file = join(pendingDir(state), name);
    const snapshot = name.slice(0, -'.json'.length);
    let commit: PointCommit;
    try {
      commit = JSON.parse(await readFile(file, 'utf8')) as PointCommit;
    } catch (err) {
      outcome.dropped.push({ snapshot, reason: `unreadable: ${message(err)}` });
      await rm(file, { force: true });
      continue;
    }
    try {
      await postPointCommit(state, commit);
      outcome.committed.push(snapshot);
    } catch (err) {
      const refusal = permanentRefusal(err);
      if (refusal === undefined) return { ...outcome, waiting: message(err) };
      outcome.dropped.push({ snapshot, reason: `${refusal.code}: ${refusal.message}` });
    }
    await rm(file, { force: true });
  }
  return outcome;
}

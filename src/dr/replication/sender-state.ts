import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../errors/index.ts';
import type { Consistency } from './protocol.ts';

// What the primary remembers between cycles and restarts (`<stateDir>/state.json`):
// the last point it replicated, the last application-consistent one, the last failure.
// Metadata only, never data or keys: it is what the heartbeat reports.

export interface PointSummary {
  id: string;
  /** When its data was captured (the snapshot's time), ISO 8601. */
  time: string;
  consistency: Consistency;
  bytesSent: number;
}

export interface CycleError {
  code: string;
  message: string;
  at: string;
}

export interface SenderState {
  version: 1;
  lastPoint: PointSummary | null;
  lastAppConsistent: PointSummary | null;
  lastAttemptAt: string | null;
  /** The failure of the last cycle (or a hook failure of a cycle that still made a point); null after a clean one. */
  lastError: CycleError | null;
}

export function emptyState(): SenderState {
  return { version: 1, lastPoint: null, lastAppConsistent: null, lastAttemptAt: null, lastError: null };
}

export async function readState(stateDir: string): Promise<SenderState> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as SenderState;
    return parsed?.version === 1 ? { ...emptyState(), ...parsed } : emptyState();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return emptyState();
    throw err;
  }
}

/** Written whole and renamed into place, so a crash leaves the old or the new state. */
export async function writeState(stateDir: string, state: SenderState): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const temp = join(stateDir, `.state.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, join(stateDir, 'state.json'));
}

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../../errors/index.ts';
import { writeAtomic } from '../../util/index.ts';
import { tryLock } from './lock.ts';

// The job journal: job reports on their way to the vault, one file per report in
// <agent dir>/journal, named so that names sort in the order the reports were made.
// A report is written here before it is sent and deleted once the vault took it, so a
// report survives an unreachable vault and a crash. Delivery goes in name order and
// stops at the first report the vault could not be reached for, so the vault hears of
// jobs in the order they happened; a report the vault refuses for good is dropped (and
// said so), never retried forever. One process delivers at a time (a lock file).

export interface JournalEntry {
  version: 1;
  kind: string;
  /** ISO time the job started, as the agent saw it. */
  startedAt: string;
  /** The vault's job id, once the vault was told that the job started. */
  jobId?: string;
  /** Otherwise the id the job was started with, in case the vault made it after all. */
  jobRef?: string;
  /** The final report, as `PATCH /v1/agent/jobs/:id` takes it. */
  report: Record<string, unknown>;
}

export interface Refusal {
  file: string;
  code: string;
  message: string;
}

export interface Delivery {
  delivered: number;
  refused: Refusal[];
  /** Reports still waiting (the vault could not be reached, or another process delivers). */
  pending: number;
  /** Why delivery stopped early, when it did. */
  error?: string;
}

/** Sends one entry; `save` persists what must survive a retry (the job id once known). */
export type SendEntry = (entry: JournalEntry, save: (entry: JournalEntry) => Promise<void>) => Promise<void>;
/** A refusal that retrying cannot change, as {code, message}; undefined means "try later". */
export type Permanence = (err: unknown) => { code: string; message: string } | undefined;

const LOCK = '.deliver.lock';
/** A delivery that holds the lock longer than this has hung; another may take over. */
const LOCK_STALE_MS = 10 * 60_000;
let sequence = 0;

export function journalDir(agentDir: string): string {
  return join(agentDir, 'journal');
}

/** Report files waiting, oldest first. */
export async function pendingReports(agentDir: string): Promise<string[]> {
  try {
    const names = await readdir(journalDir(agentDir));
    return names.filter((n) => /^\d{15}-\d{6}-[0-9a-f]{8}\.json$/.test(n)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Writes the report atomically (temp file, fsync, rename) and returns its file name. */
export async function appendReport(agentDir: string, entry: JournalEntry): Promise<string> {
  const dir = journalDir(agentDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  sequence = (sequence + 1) % 1_000_000;
  const name = `${String(Date.now()).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}.json`;
  await writeAtomic(join(dir, name), `${JSON.stringify(entry)}\n`, 0o600);
  return name;
}

async function readEntry(path: string): Promise<JournalEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(path, 'utf8')) as JournalEntry;
    if (entry?.version !== 1 || typeof entry.kind !== 'string' || typeof entry.report !== 'object') {
      return undefined;
    }
    return entry;
  } catch {
    return undefined;
  }
}

async function deliverLocked(agentDir: string, send: SendEntry, permanence: Permanence): Promise<Delivery> {
  const dir = journalDir(agentDir);
  const names = await pendingReports(agentDir);
  const result: Delivery = { delivered: 0, refused: [], pending: names.length };
  for (const name of names) {
    const path = join(dir, name);
    const entry = await readEntry(path);
    if (!entry) {
      result.refused.push({ file: name, code: 'JOURNAL_ENTRY_DAMAGED', message: 'not a job report' });
    } else {
      try {
        await send(entry, (e) => writeAtomic(path, `${JSON.stringify(e)}\n`, 0o600));
        result.delivered++;
      } catch (err) {
        const refusal = permanence(err);
        if (!refusal) {
          result.error = err instanceof Error ? err.message : String(err);
          return result;
        }
        result.refused.push({ file: name, ...refusal });
      }
    }
    await rm(path, { force: true });
    result.pending--;
  }
  return result;
}

/** Sends waiting reports in order, stopping at the first the vault could not be reached for. */
export async function deliverReports(
  agentDir: string,
  send: SendEntry,
  permanence: Permanence,
): Promise<Delivery> {
  const waiting = await pendingReports(agentDir);
  if (waiting.length === 0) return { delivered: 0, refused: [], pending: 0 };
  const lock = await tryLock(join(journalDir(agentDir), LOCK), { staleAfterMs: LOCK_STALE_MS });
  if ('heldBy' in lock) {
    return {
      delivered: 0,
      refused: [],
      pending: waiting.length,
      error: `another process (pid ${lock.heldBy}) is delivering job reports`,
    };
  }
  try {
    return await deliverLocked(agentDir, send, permanence);
  } finally {
    await lock.release();
  }
}

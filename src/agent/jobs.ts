import { randomUUID } from 'node:crypto';
import { isOffsiteError } from '../errors/index.ts';
import {
  appendReport,
  type Delivery,
  deliverReports,
  type JournalEntry,
  journalDir,
  type Permanence,
  pendingReports,
  type SendEntry,
} from './daemon/journal.ts';
import type { AgentState } from './state.ts';
import { agentClient } from './vault.ts';

// Jobs the agent reports to its vault: started, then succeeded, warning (some files were
// skipped) or failed. A report never fails the job itself (the data is what matters) and
// is never lost: the final report goes through the journal (daemon/journal.ts) — written
// to disk first, then sent, and kept when the vault cannot be reached until the next job
// or the daemon's next cycle delivers it, in order. A job whose start the vault never
// heard of is created when its report is delivered, with its real start time.

export interface JobReport {
  status: 'succeeded' | 'warning' | 'failed';
  bytes?: number;
  error?: string;
  skippedFiles?: { path: string; error: string }[];
}

/** A job as this process tracks it: `id` once the vault knows of it. */
export interface JobTicket {
  kind: string;
  startedAt: number;
  /** The id asked for at the start; the vault makes one job of every start carrying it. */
  ref: string;
  id?: string;
  finished: boolean;
}

const MAX_SKIPPED_SENT = 1000;
/** A report delivered later than this after its job ended carries its own end time. */
const LATE_MS = 60_000;
/** Vault answers worth retrying although they are 4xx (timeouts, rate limits). */
const RETRY_CODES = new Set(['HTTP_408', 'HTTP_429', 'REQUEST_TIMEOUT', 'RATE_LIMITED', 'TOO_MANY_REQUESTS']);

const openJobs = new Map<JobTicket, AgentState>();

/** A refusal of the report itself (bad input, unknown job, conflict), which no retry fixes. */
export const permanentRefusal: Permanence = (err) => {
  if (!isOffsiteError(err) || RETRY_CODES.has(err.code)) return undefined;
  const permanent = ['bad-input', 'not-found', 'conflict'].includes(err.kind) || err.code === 'FORBIDDEN';
  return permanent ? { code: err.code, message: err.message } : undefined;
};

function sender(state: AgentState, now: () => number): SendEntry {
  const client = agentClient(state);
  return async (entry, save) => {
    if (entry.jobId === undefined) {
      const job = (await client.call('POST', '/v1/agent/jobs', {
        ...(entry.jobRef !== undefined ? { id: entry.jobRef } : {}),
        kind: entry.kind,
        startedAt: entry.startedAt,
      })) as { id: string };
      entry.jobId = job.id;
      await save(entry);
    }
    const { endedAt, ...report } = entry.report;
    const late = typeof endedAt === 'string' && now() - Date.parse(endedAt) > LATE_MS;
    await client.call('PATCH', `/v1/agent/jobs/${encodeURIComponent(entry.jobId)}`, {
      ...report,
      ...(late ? { endedAt } : {}),
    });
  };
}

/** Sends the reports waiting in the journal, oldest first. */
export function deliverJournal(state: AgentState, now: () => number = Date.now): Promise<Delivery> {
  return deliverReports(state.dir, sender(state, now), permanentRefusal);
}

/** Tells the vault a job started (after sending older reports, so they arrive first). */
export async function startJob(state: AgentState, kind: string, now = Date.now()): Promise<JobTicket> {
  await deliverJournal(state).catch(() => undefined);
  const ticket: JobTicket = { kind, startedAt: now, ref: randomUUID(), finished: false };
  try {
    const start = { id: ticket.ref, kind };
    const job = (await agentClient(state).call('POST', '/v1/agent/jobs', start)) as { id: string };
    ticket.id = job.id;
  } catch {
    // Unreachable, or the answer was lost: the vault hears of the job (or finds the one it
    // made) with its final report from the journal, which carries the same id.
  }
  openJobs.set(ticket, state);
  return ticket;
}

function entryFor(ticket: JobTicket, report: JobReport, endedAt: number): JournalEntry {
  const skipped = report.skippedFiles ?? [];
  return {
    version: 1,
    kind: ticket.kind,
    startedAt: new Date(ticket.startedAt).toISOString(),
    ...(ticket.id !== undefined ? { jobId: ticket.id } : { jobRef: ticket.ref }),
    report: {
      ...report,
      skippedFiles: skipped.slice(0, MAX_SKIPPED_SENT),
      skippedCount: skipped.length,
      endedAt: new Date(endedAt).toISOString(),
    },
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Journals the final report and delivers the journal. Returns why the report did not
 * reach the vault yet (it waits in the journal), or was refused; undefined once delivered.
 * A ticket already finished (an abandoned job) is left alone.
 */
export async function finishJob(
  state: AgentState,
  ticket: JobTicket,
  report: JobReport,
  now = Date.now(),
): Promise<string | undefined> {
  if (ticket.finished) return undefined;
  ticket.finished = true;
  openJobs.delete(ticket);
  const entry = entryFor(ticket, report, now);
  let file: string;
  try {
    file = await appendReport(state.dir, entry);
  } catch (err) {
    // No journal (a full or read-only disk): one direct attempt is all that is left.
    try {
      await sender(state, Date.now)(entry, async () => {});
      return undefined;
    } catch (sendErr) {
      return `the report was lost: the journal could not be written (${message(err)}) and the vault not reached (${message(sendErr)})`;
    }
  }
  const delivery = await deliverJournal(state);
  const refused = delivery.refused.find((r) => r.file === file);
  if (refused) return `the vault refused the job report (${refused.code}: ${refused.message})`;
  if (!(await pendingReports(state.dir)).includes(file)) return undefined;
  return `${delivery.error ?? 'the vault could not be reached'}; the report waits in ${journalDir(state.dir)} and is sent with the next job`;
}

/** Reports every job this process started for the agent and has not finished as failed. */
export async function abandonOpenJobs(state: AgentState, reason: string): Promise<void> {
  for (const [ticket, owner] of [...openJobs]) {
    if (owner.dir === state.dir) await finishJob(owner, ticket, { status: 'failed', error: reason });
  }
}

/**
 * Tells the vault how far a running job is (bytes so far). Best effort: progress that
 * cannot be delivered is simply superseded by the next report, so nothing is journaled.
 */
export async function reportProgress(state: AgentState, ticket: JobTicket, bytes: number): Promise<boolean> {
  if (ticket.id === undefined || ticket.finished) return false;
  try {
    await agentClient(state).call('PATCH', `/v1/agent/jobs/${encodeURIComponent(ticket.id)}`, {
      status: 'running',
      bytes,
    });
    return true;
  } catch {
    return false;
  }
}

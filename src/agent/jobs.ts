import type { AgentState } from './state.ts';
import { agentClient } from './vault.ts';

// Jobs the agent reports to its vault: started, then succeeded, warning (some files were
// skipped) or failed. A report that cannot be delivered never fails the backup itself:
// the data is what matters; the daemon of a later issue keeps a journal of reports.

export interface JobReport {
  status: 'succeeded' | 'warning' | 'failed';
  bytes?: number;
  error?: string;
  skippedFiles?: { path: string; error: string }[];
}

/** The vault job id, or undefined when the vault could not be told. */
export async function startJob(state: AgentState, kind: string): Promise<string | undefined> {
  try {
    const job = (await agentClient(state).call('POST', '/v1/agent/jobs', { kind })) as { id: string };
    return job.id;
  } catch {
    return undefined;
  }
}

/** Returns an error message when the report could not be delivered. */
export async function finishJob(
  state: AgentState,
  id: string | undefined,
  report: JobReport,
): Promise<string | undefined> {
  if (id === undefined) return 'the vault could not be told that the job started';
  const skipped = report.skippedFiles ?? [];
  try {
    await agentClient(state).call('PATCH', `/v1/agent/jobs/${encodeURIComponent(id)}`, {
      ...report,
      skippedFiles: skipped.slice(0, 1000),
      skippedCount: skipped.length,
    });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

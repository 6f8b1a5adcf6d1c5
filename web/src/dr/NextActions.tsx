import { useState } from 'react';
import { api, get } from '../api.ts';
import { useAction } from '../hooks.ts';
import { navigate } from '../router.tsx';
import { ConfirmButton, ErrorNote } from '../ui.tsx';
import { FailoverDialog } from './FailoverDialog.tsx';
import { type DrStatus, type Plan, type Run, type RunDetail, runPath } from './types.ts';

// What comes after a run, for an owner: clean up a test; commit a real failover; then
// reprotect (replication reversed towards the old site) and fail back — each offered
// only when the server would take it.

export interface AfterRun {
  /** The plan's workloads still replicating the old way (active site is not the primary). */
  unprotected: string[];
  /** This run is the plan's newest real failover. */
  newestReal: boolean;
}

/** What the buttons of a committed real failover depend on; undefined for any other run. */
export async function loadAfterRun(run: Run, plan: Plan | undefined): Promise<AfterRun | undefined> {
  if (run.type === 'test' || run.committedAt === null || !plan) return undefined;
  const [status, runs] = await Promise.all([
    get<DrStatus>('/v1/dr/status'),
    get<{ runs: Run[] }>(`/v1/dr/runs?plan=${encodeURIComponent(run.plan)}`),
  ]);
  const names = new Set(plan.spec.groups.flatMap((g) => g.workloads));
  const unprotected = status.workloads
    .filter((w) => names.has(w.name) && w.activeSite !== w.primarySite)
    .map((w) => w.name);
  const newest = runs.runs.find((r) => r.type !== 'test' && r.state === 'succeeded');
  return { unprotected, newestReal: newest?.id === run.id };
}

export function NextActions(props: {
  run: RunDetail;
  after: AfterRun | undefined;
  onDone: () => Promise<void>;
}) {
  const { run, after } = props;
  const action = useAction();
  const [failingBack, setFailingBack] = useState(false);
  const runUrl = `/v1/dr/runs/${encodeURIComponent(run.id)}`;
  const act = (fn: () => Promise<void>) =>
    void action.run(async () => {
      await fn();
      await props.onDone();
    });
  const failBack = () =>
    void action.run(async () => {
      const started = await api<Run>('POST', `/v1/dr/plans/${encodeURIComponent(run.plan)}/failback`);
      setFailingBack(false);
      navigate(runPath(started.id));
    });
  const cleanable =
    run.type === 'test' && run.state !== 'running' && (run.cleanup === null || run.cleanup === 'failed');
  const committable = run.type !== 'test' && run.state === 'succeeded' && run.committedAt === null;
  const reprotectable = after !== undefined && after.unprotected.length > 0;
  const failbackable =
    after !== undefined && after.unprotected.length === 0 && after.newestReal && !run.failback;
  if (!cleanable && !committable && !reprotectable && !failbackable) return null;
  return (
    <div className="dr-buttons">
      {cleanable ? (
        <button
          type="button"
          className="primary"
          disabled={action.pending}
          onClick={() => act(() => api('POST', `${runUrl}/cleanup`))}
        >
          Clean up
        </button>
      ) : null}
      {committable ? (
        <ConfirmButton
          label="Commit"
          confirm="Make this failover final?"
          disabled={action.pending}
          onConfirm={() => act(() => api('POST', `${runUrl}/commit`))}
        />
      ) : null}
      {reprotectable ? (
        <ConfirmButton
          label="Reprotect"
          confirm={`Replicate ${after.unprotected.join(', ')} back towards the old site?`}
          disabled={action.pending}
          onConfirm={() => act(() => api('POST', '/v1/dr/reprotect', { plan: run.plan }))}
        />
      ) : null}
      {failbackable ? (
        <button
          type="button"
          className="danger"
          data-destructive=""
          disabled={action.pending}
          onClick={() => setFailingBack(true)}
        >
          Fail back
        </button>
      ) : null}
      {failingBack ? (
        <FailoverDialog
          plan={run.plan}
          type="failback"
          pending={action.pending}
          error={action.error}
          onStart={failBack}
          onClose={() => {
            setFailingBack(false);
            action.clear();
          }}
        />
      ) : (
        <ErrorNote error={action.error} />
      )}
    </div>
  );
}

import { useState } from 'react';
import { api, atLeast, type Role } from '../api.ts';
import { useAction } from '../hooks.ts';
import { Link, navigate } from '../router.tsx';
import { ErrorNote } from '../ui.tsx';
import { FailoverDialog } from './FailoverDialog.tsx';
import { span } from './format.ts';
import {
  type ActionSpec,
  DR_ACT_ROLE,
  type GroupSpec,
  isLive,
  type Plan,
  type Run,
  runPath,
} from './types.ts';

// Recovery plans as their ordered groups: each group's workloads start side by side once
// the group before is healthy, with the actions before and after it. An owner starts a
// failover here; a real one is confirmed in a dialog by typing the plan's name.

function actionText(a: ActionSpec): string {
  if (a.type === 'manual') return `Manual: ${a.name} — ${a.message ?? ''}`;
  if (a.type === 'script') return `Script ${a.name} at ${a.site}: ${a.command ?? ''}`;
  return `Wait ${span((a.durationMs ?? 0) / 1000)} (${a.name})`;
}

function Actions({ when, actions }: { when: string; actions: ActionSpec[] }) {
  if (actions.length === 0) return null;
  return (
    <div className="dr-actions">
      <span className="muted">{when}:</span>
      <ul>
        {actions.map((a) => (
          <li key={a.name} data-action={a.name}>
            {actionText(a)}
            {a.onlyFor.length < 3 ? <span className="muted"> (only for {a.onlyFor.join(', ')})</span> : null}
            {a.onError === 'continue' ? (
              <span className="muted"> (a failure does not stop the run)</span>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Groups({ groups }: { groups: GroupSpec[] }) {
  return (
    <ol className="dr-groups">
      {groups.map((g) => (
        <li key={g.name} data-group={g.name}>
          <strong>{g.name}</strong>: {g.workloads.join(', ')}
          <Actions when="Before" actions={g.pre} />
          <Actions when="After" actions={g.post} />
        </li>
      ))}
    </ol>
  );
}

function FailoverButtons({ plan, busy, testBusy }: { plan: string; busy: boolean; testBusy: boolean }) {
  const action = useAction();
  const [asking, setAsking] = useState<'planned' | 'unplanned'>();
  const start = (type: 'test' | 'planned' | 'unplanned', point?: string) =>
    void action.run(async () => {
      const body = point === undefined ? { type } : { type, point };
      const run = await api<Run>('POST', `/v1/dr/plans/${encodeURIComponent(plan)}/failover`, body);
      setAsking(undefined);
      navigate(runPath(run.id));
    });
  return (
    <>
      <div className="dr-buttons">
        <button
          type="button"
          className="primary"
          disabled={action.pending || busy || testBusy}
          onClick={() => start('test')}
        >
          Test failover
        </button>
        <button
          type="button"
          className="danger"
          data-destructive=""
          disabled={action.pending || busy}
          onClick={() => setAsking('planned')}
        >
          Planned failover
        </button>
        <button
          type="button"
          className="danger"
          data-destructive=""
          disabled={action.pending || busy}
          onClick={() => setAsking('unplanned')}
        >
          Unplanned failover
        </button>
      </div>
      {asking ? (
        <FailoverDialog
          plan={plan}
          type={asking}
          pending={action.pending}
          error={action.error}
          onStart={(point) => start(asking, point)}
          onClose={() => {
            setAsking(undefined);
            action.clear();
          }}
        />
      ) : (
        <ErrorNote error={action.error} />
      )}
    </>
  );
}

function RunNote({ run, text }: { run: Run | undefined; text: string }) {
  if (!run) return null;
  return (
    <p className="dr-note" role="status">
      {text} <Link to={runPath(run.id)}>Open the run</Link>
    </p>
  );
}

/** `runs`: this plan's runs, newest first. */
export function PlanCard({ plan, role, runs }: { plan: Plan; role: Role; runs: Run[] }) {
  const headingId = `plan-${plan.name}-heading`;
  const live = runs.find(isLive);
  // The server refuses another test while a test's copies are not cleaned up.
  const unclean = runs.find((r) => r.type === 'test' && !isLive(r) && r.cleanup !== 'succeeded');
  return (
    <section className="dr-plan" aria-labelledby={headingId} data-plan={plan.name}>
      <div className="card-head">
        <h3 id={headingId}>Plan {plan.name}</h3>
        <span className="muted">version {plan.version}</span>
      </div>
      {plan.spec.description ? <p>{plan.spec.description}</p> : null}
      <Groups groups={plan.spec.groups} />
      <RunNote run={live} text={`A ${live?.type} failover of this plan is in progress.`} />
      <RunNote run={live ? undefined : unclean} text="Its last test failover is not cleaned up yet." />
      {atLeast(role, DR_ACT_ROLE) ? (
        <FailoverButtons plan={plan.name} busy={live !== undefined} testBusy={unclean !== undefined} />
      ) : null}
    </section>
  );
}

import { api, atLeast, get, type Role } from '../api.ts';
import { when } from '../format.ts';
import { useAction } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ErrorNote, Loading, Section, StatusBadge } from '../ui.tsx';
import { secondsBetween, span } from './format.ts';
import { typeLabel } from './History.tsx';
import { useLivePoll } from './live.ts';
import { type AfterRun, loadAfterRun, NextActions } from './NextActions.tsx';
import { StepsTable } from './Steps.tsx';
import { DR_ACT_ROLE, isLive, isWaiting, type Plan, type RunDetail, type Step } from './types.ts';

// One failover run, followed live (every second while it moves): its steps as they go,
// a manual action waiting for a person with its Confirm button, and what comes after —
// clean up a test, commit a real failover, reprotect, fail back.

const plans = new Map<string, Plan>();

interface Loaded {
  run: RunDetail;
  plan: Plan | undefined;
  after: AfterRun | undefined;
}

async function loadRun(id: string): Promise<Loaded> {
  const run = await get<RunDetail>(`/v1/dr/runs/${encodeURIComponent(id)}`);
  let plan = plans.get(run.plan);
  if (plan?.version !== run.planVersion) {
    plan = await get<Plan>(`/v1/dr/plans/${encodeURIComponent(run.plan)}`);
    plans.set(run.plan, plan);
  }
  return { run, plan, after: await loadAfterRun(run, plan) };
}

function Facts({ run }: { run: RunDetail }) {
  const end = run.finishedAt ?? new Date().toISOString();
  return (
    <dl className="facts">
      <div>
        <dt>Started</dt>
        <dd>
          {when(run.startedAt)} by {run.startedBy}
        </dd>
      </div>
      <div>
        <dt>{run.finishedAt ? 'Took' : 'Running for'}</dt>
        <dd>{span(secondsBetween(run.startedAt, end))}</dd>
      </div>
      <div>
        <dt>Recovery point</dt>
        <dd>{run.point}</dd>
      </div>
      <div>
        <dt>RPO measured</dt>
        <dd data-testid="run-rpo">{span(run.rpoSeconds)}</dd>
      </div>
      <div>
        <dt>RTO measured</dt>
        <dd data-testid="run-rto">{span(run.rtoSeconds)}</dd>
      </div>
      {run.type === 'test' ? (
        <div>
          <dt>Test copies</dt>
          <dd>
            ports + {run.portOffset}, clean-up {run.cleanup ?? 'not done yet'}
          </dd>
        </div>
      ) : (
        <div>
          <dt>Committed</dt>
          <dd>{run.committedAt ? when(run.committedAt) : 'not yet'}</dd>
        </div>
      )}
    </dl>
  );
}

/** The way on after a real failover, in the order the server accepts it. */
function NextSteps({ run, after }: { run: RunDetail; after: AfterRun | undefined }) {
  if (run.type === 'test' || run.state !== 'succeeded') return null;
  let text =
    'The workloads run at the target site. Commit to make it final; then reprotect reverses replication.';
  if (after && after.unprotected.length > 0)
    text = `Committed. Next, reprotect: ${after.unprotected.join(', ')} still replicate the old way.`;
  else if (after?.newestReal && !run.failback)
    text = 'Committed and reprotected: replication runs towards the old site. Fail back when it is ready.';
  else if (after) text = 'Committed and reprotected.';
  return <p className="muted">{text}</p>;
}

function Waiting(props: { step: Step; run: RunDetail; canAct: boolean; onDone: () => Promise<void> }) {
  const action = useAction();
  const message = props.step.detail?.replace(/^waiting for `[^`]*`: /, '') ?? '';
  const confirm = () =>
    void action.run(async () => {
      await api('POST', `/v1/dr/runs/${encodeURIComponent(props.run.id)}/confirm`, {
        action: props.step.name,
      });
      await props.onDone();
    });
  return (
    <div className="dr-waiting" role="status" data-waiting={props.step.name}>
      <h2>Waiting for confirmation: {props.step.name}</h2>
      <p>{message}</p>
      {props.canAct ? (
        <button type="button" className="primary" disabled={action.pending} onClick={confirm}>
          Confirm
        </button>
      ) : (
        <p className="muted">An owner confirms it here when it is done.</p>
      )}
      <ErrorNote error={action.error} />
    </div>
  );
}

export function RunView({ id, role }: { id: string; role: Role }) {
  const { data, error, reload } = useLivePoll(
    () => loadRun(id),
    `run:${id}`,
    (d) => isLive(d.run),
  );
  const canAct = atLeast(role, DR_ACT_ROLE);
  const run = data?.run;
  return (
    <>
      <p className="links">
        <Link to="/dr">← Disaster recovery</Link>
      </p>
      <h1>
        {run ? `${typeLabel(run)} of ${run.plan}` : 'Failover run'}{' '}
        {run ? <StatusBadge status={run.state} /> : null}
      </h1>
      <ErrorNote error={error} />
      {!run ? (
        <Loading what="the run" />
      ) : (
        <>
          {run.error ? <p className="error">{run.error}</p> : null}
          {run.steps.filter(isWaiting).map((s) => (
            <Waiting key={s.seq} step={s} run={run} canAct={canAct} onDone={reload} />
          ))}
          <Section
            title="Run"
            id="dr-run"
            actions={canAct ? <NextActions run={run} after={data.after} onDone={reload} /> : null}
          >
            <Facts run={run} />
            <NextSteps run={run} after={data.after} />
          </Section>
          <Section title="Steps" id="dr-run-steps">
            <StepsTable steps={run.steps} plan={data.plan} />
          </Section>
        </>
      )}
    </>
  );
}

import { get, type Role } from '../api.ts';
import { History } from '../dr/History.tsx';
import { useLivePoll } from '../dr/live.ts';
import { PlanCard } from '../dr/Plans.tsx';
import { SitesTable, WorkloadsTable } from '../dr/StatusTables.tsx';
import { type DrStatus, isLive, type Plan, type Run, runPath } from '../dr/types.ts';
import { Link } from '../router.tsx';
import { ErrorNote, Loading, Section } from '../ui.tsx';

// Disaster recovery at a glance: the sites and their heartbeats, the workloads and how
// fresh their replicas are, the recovery plans (where an owner starts a failover) and
// the drill history. Every second while a run is in progress, every few otherwise.

interface DrOverview {
  status: DrStatus;
  plans: Plan[];
  runs: Run[];
}

async function loadOverview(): Promise<DrOverview> {
  const [status, plans, runs] = await Promise.all([
    get<DrStatus>('/v1/dr/status'),
    get<{ plans: Plan[] }>('/v1/dr/plans'),
    get<{ runs: Run[] }>('/v1/dr/runs'),
  ]);
  return { status, plans: plans.plans, runs: runs.runs };
}

function LiveRuns({ runs }: { runs: Run[] }) {
  const live = runs.filter(isLive);
  if (live.length === 0) return null;
  return (
    <div className="dr-live" role="status">
      {live.map((r) => (
        <p key={r.id}>
          <strong>
            {r.cleanup === 'running'
              ? 'Cleaning up'
              : `${r.type[0]!.toUpperCase()}${r.type.slice(1)} failover`}{' '}
            of {r.plan}
          </strong>{' '}
          in progress — <Link to={runPath(r.id)}>follow it step by step</Link>
        </p>
      ))}
    </div>
  );
}

export function Dr({ role }: { role: Role }) {
  const { data, error } = useLivePoll(loadOverview, 'dr', (d) => d.runs.some(isLive));
  return (
    <>
      <h1>Disaster recovery</h1>
      <ErrorNote error={error} />
      {!data ? (
        <Loading what="sites and workloads" />
      ) : (
        <>
          <LiveRuns runs={data.runs} />
          <Section title="Sites" id="dr-sites">
            <SitesTable status={data.status} />
          </Section>
          <Section title="Workloads" id="dr-workloads">
            <WorkloadsTable status={data.status} />
          </Section>
          <Section title="Recovery plans" id="dr-plans">
            {data.plans.length === 0 ? (
              <p className="muted">
                No recovery plan yet. Declare one with <code>offsite dr plan apply FILE</code>.
              </p>
            ) : (
              data.plans.map((p) => (
                <PlanCard
                  key={p.name}
                  plan={p}
                  role={role}
                  runs={data.runs.filter((r) => r.plan === p.name)}
                />
              ))
            )}
          </Section>
          <Section title="Run history" id="dr-history">
            <History runs={data.runs} at={data.status.at} />
          </Section>
        </>
      )}
    </>
  );
}

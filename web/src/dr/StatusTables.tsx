import { when } from '../format.ts';
import { StatusBadge } from '../ui.tsx';
import { agoAt, frequencySeconds, secondsBetween, span } from './format.ts';
import { type DrStatus, HEARTBEAT_LATE_MS, type SiteStatus, type WorkloadStatus } from './types.ts';

// The sites with their heartbeat and the workloads with their replication health, as
// GET /v1/dr/status reports them.

function heartbeatState(site: SiteStatus, at: string): { label: string; badge: string } {
  if (site.state === 'down') return { label: 'down', badge: 'failed' };
  if (site.state === 'never-heard') return { label: 'never heard', badge: 'warning' };
  const late =
    site.lastHeartbeatAt !== null && secondsBetween(site.lastHeartbeatAt, at) * 1000 > HEARTBEAT_LATE_MS;
  return late ? { label: 'late', badge: 'warning' } : { label: 'up', badge: 'succeeded' };
}

export function SitesTable({ status }: { status: DrStatus }) {
  if (status.sites.length === 0)
    return (
      <p className="muted">
        No site yet. Create one with <code>offsite site create</code>.
      </p>
    );
  return (
    <table data-testid="dr-sites">
      <caption className="sr-only">Sites and their site agents' heartbeats</caption>
      <thead>
        <tr>
          <th scope="col">Site</th>
          <th scope="col">Vault</th>
          <th scope="col">State</th>
          <th scope="col">Last heartbeat</th>
          <th scope="col">Site agent</th>
          <th scope="col">Replication address</th>
        </tr>
      </thead>
      <tbody>
        {status.sites.map((s) => {
          const state = heartbeatState(s, status.at);
          return (
            <tr key={s.name} data-site={s.name}>
              <th scope="row">{s.name}</th>
              <td>{s.vault}</td>
              <td>
                <span className={`badge badge-${state.badge}`}>{state.label}</span>
                {s.downSince ? <span className="muted"> since {when(s.downSince)}</span> : null}
              </td>
              <td title={when(s.lastHeartbeatAt)}>{agoAt(s.lastHeartbeatAt, status.at)}</td>
              <td>
                {s.inventory?.agentVersion ? `version ${s.inventory.agentVersion}` : '—'}
                {s.inventory?.host ? <span className="muted"> on {s.inventory.host}</span> : null}
              </td>
              <td>{s.inventory?.replicationAddress ? <code>{s.inventory.replicationAddress}</code> : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** healthy, behind (RPO over three replication periods), failing, or not yet. */
function health(w: WorkloadStatus): { label: string; badge: string; why?: string } {
  if (!w.replication) return { label: 'not reported yet', badge: 'pending' };
  if (w.replication.error) return { label: 'failing', badge: 'failed', why: w.replication.error };
  if (w.rpoSeconds === null) return { label: 'no point yet', badge: 'pending' };
  const period = frequencySeconds(w.frequency);
  if (period !== null && w.rpoSeconds > 3 * period)
    return { label: 'behind', badge: 'warning', why: `RPO over 3 × ${w.frequency}` };
  return { label: 'healthy', badge: 'succeeded' };
}

function replicaOf(w: WorkloadStatus): string {
  return w.activeSite === w.primarySite ? w.replicaSite : w.primarySite;
}

export function WorkloadsTable({ status }: { status: DrStatus }) {
  if (status.workloads.length === 0)
    return (
      <p className="muted">
        No workload yet. Declare them with <code>offsite dr apply FILE</code>.
      </p>
    );
  return (
    <div className="dr-wide">
      <table data-testid="dr-workloads">
        <caption className="sr-only">Workloads and their replication</caption>
        <thead>
          <tr>
            <th scope="col">Workload</th>
            <th scope="col">Runs at</th>
            <th scope="col">Replicates to</th>
            <th scope="col">Replication</th>
            <th scope="col">Last point</th>
            <th scope="col">RPO now</th>
            <th scope="col">Fencing epoch</th>
            <th scope="col">Last test</th>
          </tr>
        </thead>
        <tbody>
          {status.workloads.map((w) => {
            const h = health(w);
            return (
              <tr key={w.name} data-workload={w.name}>
                <th scope="row">{w.name}</th>
                <td>
                  {w.activeSite}
                  <span className="muted">
                    {w.activeSite === w.primarySite ? ' (primary)' : ' (failed over)'}
                  </span>
                </td>
                <td>{replicaOf(w)}</td>
                <td>
                  <span className={`badge badge-${h.badge}`}>{h.label}</span>
                  {h.why ? <div className="dr-why">{h.why}</div> : null}
                </td>
                <td title={when(w.replication?.lastPointAt ?? null)}>
                  {w.replication?.lastPointAt ? agoAt(w.replication.lastPointAt, status.at) : '—'}
                  {w.replication?.lastPointAt && !w.replication.consistent ? (
                    <span className="muted"> (crash-consistent)</span>
                  ) : null}
                </td>
                <td data-testid="dr-rpo">
                  {span(w.rpoSeconds)}
                  {w.frequency ? <span className="muted"> every {w.frequency}</span> : null}
                </td>
                <td>{w.fencingEpoch}</td>
                <td>
                  {w.lastTestFailoverAt ? when(w.lastTestFailoverAt) : 'never'}
                  {w.testOverdue ? (
                    <>
                      {' '}
                      <StatusBadge status="overdue" />
                    </>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

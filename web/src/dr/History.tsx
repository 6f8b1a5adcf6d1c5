import { when } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../ui.tsx';
import { secondsBetween, span } from './format.ts';
import { type Run, runPath } from './types.ts';

// The drill history: every failover run, newest first, with the RPO (age of the data it
// started from) and the RTO (start → every workload healthy) it measured.

export function typeLabel(run: Run): string {
  const kind =
    run.type === 'test'
      ? 'Test failover'
      : run.type === 'planned'
        ? 'Planned failover'
        : 'Unplanned failover';
  return run.failback ? `${kind} (failback)` : kind;
}

function Result({ run }: { run: Run }) {
  return (
    <>
      <StatusBadge status={run.state} />
      {run.type === 'test' && run.state !== 'running' ? (
        <span className="muted"> cleanup {run.cleanup === null ? 'not done' : run.cleanup}</span>
      ) : run.committedAt ? (
        <span className="muted"> committed</span>
      ) : null}
    </>
  );
}

export function History({ runs, at }: { runs: Run[]; at: string }) {
  if (runs.length === 0)
    return <p className="muted">No failover has run yet. A test failover is a safe start.</p>;
  return (
    <div className="dr-wide">
      <table data-testid="dr-history">
        <caption className="sr-only">Failover runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Plan</th>
            <th scope="col">Type</th>
            <th scope="col">Result</th>
            <th scope="col">Duration</th>
            <th scope="col">RPO</th>
            <th scope="col">RTO</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-run={r.id}>
              <td>
                <Link to={runPath(r.id)}>{when(r.startedAt)}</Link>
              </td>
              <td>{r.plan}</td>
              <td>{typeLabel(r)}</td>
              <td>
                <Result run={r} />
              </td>
              <td>
                {r.finishedAt
                  ? span(secondsBetween(r.startedAt, r.finishedAt))
                  : `${span(secondsBetween(r.startedAt, at))} so far`}
              </td>
              <td data-testid="run-rpo">{span(r.rpoSeconds)}</td>
              <td data-testid="run-rto">{span(r.rtoSeconds)}</td>
              <td>{r.startedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

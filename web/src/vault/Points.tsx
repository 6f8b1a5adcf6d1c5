import { api, atLeast, type Point, type Role, vaultPath } from '../api.ts';
import { bytes, when } from '../format.ts';
import { useAction } from '../hooks.ts';
import { ErrorNote, StatusBadge } from '../ui.tsx';

// Recovery points per server with the bytes each one added, and the soft-deleted ones
// with their undelete button.

function byServer(points: Point[]): Map<string, Point[]> {
  const groups = new Map<string, Point[]>();
  for (const p of points) groups.set(p.server, [...(groups.get(p.server) ?? []), p]);
  return groups;
}

export function ActivePoints({ points }: { points: Point[] }) {
  const active = points.filter((p) => p.state === 'active');
  if (active.length === 0) return <p className="muted">No recovery point yet.</p>;
  return (
    <>
      {[...byServer(active)].map(([server, list]) => (
        <div key={server} className="server-points">
          <h3>{server}</h3>
          <table>
            <caption className="sr-only">Recovery points of {server}</caption>
            <thead>
              <tr>
                <th scope="col">Taken</th>
                <th scope="col">Files</th>
                <th scope="col">Protected</th>
                <th scope="col">Size added</th>
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.id} data-point={p.id}>
                  <td>{when(p.time)}</td>
                  <td>
                    {p.stats.filesNew} new, {p.stats.filesChanged} changed, {p.stats.filesUnmodified}{' '}
                    unchanged
                  </td>
                  <td>{bytes(p.stats.bytesProcessed)}</td>
                  <td>{bytes(p.bytesAdded)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

export function SoftDeletedPoints(props: {
  vault: string;
  role: Role;
  points: Point[];
  onChanged: () => void;
}) {
  const action = useAction();
  const deleted = props.points.filter((p) => p.state === 'soft-deleted');
  if (deleted.length === 0) return <p className="muted">No soft-deleted recovery point.</p>;
  const undelete = (p: Point) =>
    void action.run(async () => {
      await api('POST', vaultPath(props.vault, `/points/${encodeURIComponent(p.id)}/undelete`));
      props.onChanged();
    });
  return (
    <>
      <ErrorNote error={action.error} />
      <table>
        <caption className="sr-only">Soft-deleted recovery points</caption>
        <thead>
          <tr>
            <th scope="col">Server</th>
            <th scope="col">Taken</th>
            <th scope="col">State</th>
            <th scope="col">Deleted for good</th>
            <th scope="col">Size added</th>
            {atLeast(props.role, 'contributor') ? <th scope="col">Action</th> : null}
          </tr>
        </thead>
        <tbody>
          {deleted.map((p) => (
            <tr key={p.id} data-point={p.id}>
              <td>{p.server}</td>
              <td>{when(p.time)}</td>
              <td>
                <StatusBadge status={p.state} />
              </td>
              <td>{when(p.deleteAfter)}</td>
              <td>{bytes(p.bytesAdded)}</td>
              {atLeast(props.role, 'contributor') ? (
                <td>
                  <button type="button" disabled={action.pending} onClick={() => undelete(p)}>
                    Undelete
                  </button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

import { bytes, when } from '../format.ts';

// Each server's last region probe (`offsite agent regions --probe` on that server): how
// far each region is from it, to choose where a new vault should live.

export interface ServerProbe {
  server: string;
  probedAt: string;
  regions: {
    region: string;
    kind: string;
    latencyMs: number | null;
    uploadBytesPerSecond: number | null;
    downloadBytesPerSecond: number | null;
    error: string | null;
  }[];
}

const rate = (n: number | null) => (n === null ? '—' : `${bytes(n)}/s`);

export function Probes({ probes }: { probes: ServerProbe[] }) {
  if (probes.length === 0) {
    return <p className="muted">No probe yet: run offsite agent regions --probe on a server.</p>;
  }
  return (
    <table data-testid="probes">
      <thead>
        <tr>
          <th scope="col">Server</th>
          <th scope="col">Region</th>
          <th scope="col">Latency</th>
          <th scope="col">Upload</th>
          <th scope="col">Download</th>
          <th scope="col">Probed</th>
        </tr>
      </thead>
      <tbody>
        {probes.flatMap((p) =>
          p.regions.map((r) => (
            <tr key={`${p.server}/${r.region}`}>
              <th scope="row">{p.server}</th>
              <td>
                {r.region} ({r.kind})
              </td>
              <td>{r.error ? `failed: ${r.error}` : r.latencyMs === null ? '—' : `${r.latencyMs} ms`}</td>
              <td>{rate(r.uploadBytesPerSecond)}</td>
              <td>{rate(r.downloadBytesPerSecond)}</td>
              <td>{when(p.probedAt)}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

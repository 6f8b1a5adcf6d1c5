import type { Usage } from '../api.ts';
import { bytes } from '../format.ts';

// Usage over time, drawn by hand in SVG: protected bytes (what the newest points hold)
// against stored bytes (what storage holds), one point per measured day plus now.

interface Sample {
  label: string;
  protectedBytes: number;
  storedBytes: number;
}

const W = 640;
const H = 220;
const PAD = { left: 72, right: 16, top: 16, bottom: 32 };

function samples(usage: Usage): Sample[] {
  const rows = usage.history
    .filter((r) => r.server === null)
    .sort((a, b) => a.day.localeCompare(b.day))
    .map((r) => ({ label: r.day.slice(5), protectedBytes: r.protectedBytes, storedBytes: r.storedBytes }));
  return [...rows, { label: 'now', protectedBytes: usage.protectedBytes, storedBytes: usage.storedBytes }];
}

function line(
  points: Sample[],
  pick: (s: Sample) => number,
  x: (i: number) => number,
  y: (v: number) => number,
) {
  return points.map((s, i) => `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
}

export function UsageChart({ usage }: { usage: Usage }) {
  const data = samples(usage);
  const max = Math.max(1, ...data.map((s) => Math.max(s.protectedBytes, s.storedBytes)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (data.length === 1 ? plotW / 2 : (i / (data.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, max / 2, max];
  const summary = `Now ${bytes(usage.protectedBytes)} protected and ${bytes(usage.storedBytes)} stored`;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Usage over time. ${summary}.`}
        data-testid="usage-chart"
        data-samples={data.length}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
              {bytes(t)}
            </text>
          </g>
        ))}
        {data.map((s, i) => (
          <text key={s.label} x={x(i)} y={H - 10} textAnchor="middle" className="axis">
            {s.label}
          </text>
        ))}
        <polyline points={line(data, (s) => s.protectedBytes, x, y)} className="series-protected" />
        <polyline points={line(data, (s) => s.storedBytes, x, y)} className="series-stored" />
        {data.map((s, i) => (
          <g key={`dot-${s.label}`}>
            <circle cx={x(i)} cy={y(s.protectedBytes)} r={4} className="dot-protected">
              <title>{`${s.label}: ${bytes(s.protectedBytes)} protected`}</title>
            </circle>
            <circle cx={x(i)} cy={y(s.storedBytes)} r={4} className="dot-stored">
              <title>{`${s.label}: ${bytes(s.storedBytes)} stored`}</title>
            </circle>
          </g>
        ))}
      </svg>
      <figcaption>
        <span className="key key-protected" aria-hidden="true" /> Protected{' '}
        <span className="key key-stored" aria-hidden="true" /> Stored —{' '}
        <span data-testid="usage-now">{summary}</span>
      </figcaption>
    </figure>
  );
}

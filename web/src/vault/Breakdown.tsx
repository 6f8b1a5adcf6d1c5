import type { Usage } from '../api.ts';

// Why stored differs from protected, in the server's own sentences (it words each part).

const ORDER = [
  'protected',
  'stored',
  'compression',
  'dedup',
  'latest',
  'olderPoints',
  'softDeleted',
  'garbage',
];

export function Breakdown({ usage }: { usage: Usage }) {
  const shown = usage.explanations
    .filter((e) => ORDER.includes(e.key) || e.bytes > 0)
    .sort((a, b) => {
      const ia = ORDER.indexOf(a.key);
      const ib = ORDER.indexOf(b.key);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
  return (
    <ul className="explanations" data-testid="usage-explanations">
      {shown.map((e) => (
        <li key={e.key}>{e.text}</li>
      ))}
    </ul>
  );
}

import { formatDuration, table } from '../../output.ts';

// How runs print: one line per run in a list, the steps with their timings in `run show`.

export interface StepJson {
  name: string;
  kind: string;
  site: string | null;
  state: string;
  seconds: number | null;
  detail: string | null;
}

export interface RunJson {
  id: string;
  plan: string;
  type: string;
  failback: boolean;
  point: string;
  state: string;
  startedAt: string;
  finishedAt: string | null;
  rtoSeconds: number | null;
  rpoSeconds: number | null;
  error: string | null;
  committedAt: string | null;
  cleanup: string | null;
  steps?: StepJson[];
}

const seconds = (s: number | null) => (s === null ? '-' : formatDuration(s * 1000));

export function printRun(print: (line: string) => void, run: RunJson): void {
  const kind = run.failback ? `${run.type} failback` : run.type;
  print(`run ${run.id}: ${kind} failover of ${run.plan} (point ${run.point}) — ${run.state}`);
  print(`  started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`);
  print(`  RTO ${seconds(run.rtoSeconds)}, RPO ${seconds(run.rpoSeconds)}`);
  if (run.committedAt) print(`  committed ${run.committedAt}`);
  if (run.cleanup) print(`  cleanup ${run.cleanup}`);
  if (run.error) print(`  error: ${run.error}`);
  if (!run.steps) return;
  const rows = run.steps.map((s) => [
    s.name,
    s.kind,
    s.site ?? '-',
    s.state,
    seconds(s.seconds),
    s.detail ?? '',
  ]);
  print(table([['STEP', 'KIND', 'SITE', 'STATE', 'TOOK', 'DETAIL'], ...rows]));
}

export function printRuns(print: (line: string) => void, runs: RunJson[]): void {
  if (runs.length === 0) {
    print('no runs (start one with `offsite dr failover PLAN --type test`)');
    return;
  }
  const rows = runs.map((r) => [
    r.id,
    r.plan,
    r.failback ? `${r.type} (failback)` : r.type,
    r.state,
    r.startedAt,
    seconds(r.rtoSeconds),
    seconds(r.rpoSeconds),
    r.cleanup ?? (r.committedAt ? 'committed' : '-'),
  ]);
  print(table([['RUN', 'PLAN', 'TYPE', 'STATE', 'STARTED', 'RTO', 'RPO', 'AFTER'], ...rows]));
}

import { span } from './format.ts';
import { isWaiting, type Plan, type Step } from './types.ts';

// A run's steps stage by stage, each stage named after what it does in the plan: stages
// run one after the other; the steps of one stage side by side.

function stageLabel(steps: Step[], plan: Plan | undefined): string {
  const first = steps[0]!;
  if (first.phase === 'cleanup') return 'Clean up the test copies';
  if (steps.every((s) => s.kind === 'stop')) {
    const group = plan?.spec.groups.find((g) => steps.some((s) => g.workloads.includes(s.workload ?? '')));
    return `Stop ${group ? `group ${group.name}` : 'production'} at the source`;
  }
  if (steps.every((s) => s.kind === 'replicate-now')) return 'Replicate the last changes';
  if (steps.every((s) => s.kind === 'fence')) return 'Fence the source';
  for (const g of plan?.spec.groups ?? []) {
    if (steps.some((s) => s.workload !== null && g.workloads.includes(s.workload)))
      return `Group ${g.name}: start ${g.workloads.join(', ')}`;
    if (steps.some((s) => g.pre.some((a) => a.name === s.name))) return `Group ${g.name}: before`;
    if (steps.some((s) => g.post.some((a) => a.name === s.name))) return `Group ${g.name}: after`;
  }
  return `Stage ${first.stage + 1}`;
}

function byStage(steps: Step[]): Step[][] {
  const stages = new Map<string, Step[]>();
  for (const s of steps) {
    const key = `${s.phase}:${s.stage}`;
    stages.set(key, [...(stages.get(key) ?? []), s]);
  }
  return [...stages.values()];
}

export function stepState(step: Step): string {
  return isWaiting(step) ? 'waiting' : step.state;
}

export function StepsTable({ steps, plan }: { steps: Step[]; plan: Plan | undefined }) {
  return (
    <table className="dr-steps" data-testid="dr-steps">
      <caption className="sr-only">The run's steps, stage by stage</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Site</th>
          <th scope="col">State</th>
          <th scope="col">Took</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      {byStage(steps).map((stage) => (
        <tbody key={`${stage[0]!.phase}:${stage[0]!.stage}`}>
          <tr className="dr-stage">
            <th scope="rowgroup" colSpan={5}>
              {stageLabel(stage, plan)}
            </th>
          </tr>
          {stage.map((s) => (
            <tr key={s.seq} data-step={s.name} data-state={stepState(s)}>
              <td>{s.name}</td>
              <td>{s.site ?? '—'}</td>
              <td>
                <span className={`badge badge-${stepState(s)}`}>{stepState(s)}</span>
              </td>
              <td>{s.state === 'running' ? '…' : span(s.seconds)}</td>
              <td className="dr-detail">{s.detail ?? ''}</td>
            </tr>
          ))}
        </tbody>
      ))}
    </table>
  );
}

import type { ProbeSpec } from './probe.ts';
import { runProbe } from './probe.ts';

// Running a command from the server. Each kind is idempotent: the server sends a command
// again when its result never arrived. The result lists the steps taken, each with its
// outcome, for the server to keep and show.

/** A workload as the server assigns it to this site (the heartbeat's answer). */
export interface Assignment {
  name: string;
  version: number;
  role: 'primary' | 'replica';
  fencingEpoch: number;
  activeSite: string;
  primarySite: string;
  replicaSite: string;
  spec: { dataPaths?: string[]; health?: ProbeSpec } & Record<string, unknown>;
}

export interface Command {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
}

export interface Step {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface CommandResult {
  state: 'succeeded' | 'failed';
  result: { steps: Step[] } & Record<string, unknown>;
}

function failed(name: string, detail: string): CommandResult {
  return { state: 'failed', result: { steps: [{ name, ok: false, detail, ms: 0 }] } };
}

async function probe(command: Command, workloads: readonly Assignment[]): Promise<CommandResult> {
  const name = command.payload.workload;
  const workload = workloads.find((w) => w.name === name);
  if (!workload?.spec.health) return failed('probe', `workload ${String(name)} is not assigned to this site`);
  const outcome = await runProbe(workload.spec.health);
  return {
    state: outcome.healthy ? 'succeeded' : 'failed',
    result: {
      workload: workload.name,
      healthy: outcome.healthy,
      steps: [
        {
          name: `probe ${workload.spec.health.type}`,
          ok: outcome.healthy,
          detail: outcome.detail,
          ms: outcome.ms,
        },
      ],
    },
  };
}

export async function executeCommand(
  command: Command,
  workloads: readonly Assignment[],
): Promise<CommandResult> {
  if (command.kind === 'noop') {
    return {
      state: 'succeeded',
      result: { steps: [{ name: 'noop', ok: true, detail: 'nothing to do', ms: 0 }] },
    };
  }
  if (command.kind === 'probe') return probe(command, workloads);
  return failed(command.kind, `this site agent does not know commands of kind "${command.kind}"; upgrade it`);
}

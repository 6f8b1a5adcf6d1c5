import { join } from 'node:path';
import { BadInputError } from '../../errors/index.ts';

// Where disaster recovery keeps its files in the site agent's folder (mode 0700):
//   dr/fencing.json            newest fencing epoch known per workload
//   dr/processes/<id>.json     workload processes started here (pid, start time, group)
//   dr/processes/<id>.log      their output
//   dr/replica/<workload>/     replicas received from the peer (repo/ and key)
//   dr/sender/<workload>/      this site as the source: state.json, cache, key
//   dr/tests/<runId>/<workload>/  test failover copies (absolute paths below)

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;

export function checkRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId) || runId.includes('..')) {
    throw new BadInputError('BAD_RUN_ID', `"${String(runId).slice(0, 80)}" is not a run id`, {
      hint: 'a run id is 1 to 80 letters, digits, ".", "_" or "-"',
    });
  }
  return runId;
}

export function drLayout(dir: string) {
  const root = join(dir, 'dr');
  return {
    root,
    fencing: join(root, 'fencing.json'),
    processes: join(root, 'processes'),
    replicaRoot: join(root, 'replica'),
    sender: (workload: string) => join(root, 'sender', workload),
    tests: join(root, 'tests'),
    testRun: (runId: string) => join(root, 'tests', checkRunId(runId)),
    testCopy: (runId: string, workload: string) => join(root, 'tests', checkRunId(runId), workload),
  };
}

export type DrLayout = ReturnType<typeof drLayout>;

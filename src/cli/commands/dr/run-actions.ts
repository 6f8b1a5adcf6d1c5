import { str, UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { type AdminAction, positionals } from '../site/action.ts';
import { printRun, printRuns, type RunJson } from './run-output.ts';

// `offsite dr runs`, `dr run show`, `dr confirm`, `dr commit`, `dr cleanup`, `dr drills`.

const runPath = (id: string, rest = '') => `/v1/dr/runs/${encodeURIComponent(id)}${rest}`;

/** A POST on the run that answers the run, printed. */
function runVerb(name: string, summary: string): AdminAction {
  return {
    name,
    usage: `${name} RUN`,
    summary,
    async run(ctx, client, args) {
      const [id] = positionals(args, 1, `offsite dr ${this.usage}`);
      const run = (await (await client()).call('POST', runPath(id!, `/${name}`))) as RunJson;
      ctx.out.data(run);
      printRun((line) => ctx.out.line(line), run);
      return 0;
    },
  };
}

export const RUN_ACTIONS: AdminAction[] = [
  {
    name: 'runs',
    usage: 'runs [--plan P]',
    summary: 'the drill history: failover runs, newest first, with their RTO and RPO',
    options: { plan: { type: 'string' } },
    optionHelp: [['--plan P', 'runs: only the runs of plan P']],
    async run(ctx, client, args) {
      positionals(args, 0, `offsite dr ${this.usage}`);
      const plan = str(ctx.values, 'plan');
      const query = plan ? `?plan=${encodeURIComponent(plan)}` : '';
      const { runs } = (await (await client()).call('GET', `/v1/dr/runs${query}`)) as { runs: RunJson[] };
      ctx.out.data({ runs });
      printRuns((line) => ctx.out.line(line), runs);
      return 0;
    },
  },
  {
    name: 'run',
    usage: 'run show RUN',
    summary: 'one run: its state, RTO, RPO and every step with its timing',
    async run(ctx, client, args) {
      const [sub, id] = args;
      if (sub !== 'show' || args.length !== 2) throw new UsageError(`usage: offsite dr ${this.usage}`);
      const run = (await (await client()).call('GET', runPath(id!))) as RunJson;
      ctx.out.data(run);
      printRun((line) => ctx.out.line(line), run);
      return 0;
    },
  },
  {
    name: 'confirm',
    usage: 'confirm RUN ACTION',
    summary: 'confirm a manual action the run waits for',
    async run(ctx, client, args) {
      const [id, action] = positionals(args, 2, `offsite dr ${this.usage}`);
      const run = (await (await client()).call('POST', runPath(id!, '/confirm'), { action })) as RunJson;
      ctx.out.data(run);
      ctx.out.line(`${action}: confirmed`);
      return 0;
    },
  },
  runVerb('commit', 'commit a succeeded planned or unplanned failover (reprotect needs it)'),
  runVerb('cleanup', 'clean up a test failover and check that nothing is left'),
  {
    name: 'drills',
    usage: 'drills',
    summary: 'per workload: the last successful test failover; flagged after 90 days without one',
    async run(ctx, client, args) {
      positionals(args, 0, `offsite dr ${this.usage}`);
      const answer = (await (await client()).call('GET', '/v1/dr/drills')) as {
        workloads: { name: string; lastTestAt: string | null; testOverdue: boolean }[];
      };
      ctx.out.data(answer);
      const rows = answer.workloads.map((w) => [
        w.name,
        w.lastTestAt ?? 'never',
        w.testOverdue ? 'NO TEST FAILOVER IN 90 DAYS' : 'ok',
      ]);
      ctx.out.line(table([['WORKLOAD', 'LAST TEST FAILOVER', 'DRILL'], ...rows]));
      return 0;
    },
  },
];

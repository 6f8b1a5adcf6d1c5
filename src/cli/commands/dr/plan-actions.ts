import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../../errors/index.ts';
import { checkPlanDocument, readPlanYaml } from '../../../vault/dr/plans/index.ts';
import { str, UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { type AdminAction, positionals } from '../site/action.ts';
import { printRun, type RunJson } from './run-output.ts';

// `offsite dr plan apply|list|show`, `dr failover`, `dr failback`, `dr reprotect`.

const planPath = (name: string, rest = '') => `/v1/dr/plans/${encodeURIComponent(name)}${rest}`;

async function readPlanFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the plan file ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
  const document = readPlanYaml(text);
  // Checked here for a quick answer naming every problem; the server checks it again.
  checkPlanDocument(document);
  return document;
}

interface PlanJson {
  name: string;
  version: number;
  spec: { groups: { name: string; workloads: string[] }[] };
  runs?: RunJson[];
}

const planAction: AdminAction = {
  name: 'plan',
  usage: 'plan apply FILE | plan list | plan show NAME',
  summary: 'recovery plans: apply a YAML file (all checked first, applied at once), list them, show one',
  async run(ctx, client, args) {
    const [sub, ...rest] = args;
    const api = await client();
    if (sub === 'apply') {
      const [file] = positionals(rest, 1, 'offsite dr plan apply FILE');
      const applied = (await api.call('PUT', '/v1/dr/plans', await readPlanFile(file!))) as {
        plans: { name: string; version: number; change: string }[];
      };
      ctx.out.data(applied);
      for (const p of applied.plans) ctx.out.line(`${p.name}: ${p.change} (version ${p.version})`);
      return 0;
    }
    if (sub === 'list') {
      positionals(rest, 0, 'offsite dr plan list');
      const { plans } = (await api.call('GET', '/v1/dr/plans')) as { plans: PlanJson[] };
      ctx.out.data({ plans });
      if (plans.length === 0) ctx.out.line('no plans (declare them with `offsite dr plan apply FILE`)');
      else {
        const rows = plans.map((p) => [
          p.name,
          String(p.version),
          p.spec.groups.map((g) => g.workloads.join('+')).join(' -> '),
        ]);
        ctx.out.line(table([['PLAN', 'VERSION', 'GROUPS'], ...rows]));
      }
      return 0;
    }
    if (sub === 'show') {
      const [name] = positionals(rest, 1, 'offsite dr plan show NAME');
      const plan = (await api.call('GET', planPath(name!))) as PlanJson;
      ctx.out.data(plan);
      ctx.out.line(`${plan.name} (version ${plan.version})`);
      plan.spec.groups.forEach((g, i) => {
        ctx.out.line(`  ${i + 1}. ${g.name}: ${g.workloads.join(', ')}`);
      });
      for (const r of plan.runs ?? []) ctx.out.line(`  run ${r.id} ${r.type} ${r.state} ${r.startedAt}`);
      return 0;
    }
    throw new UsageError(`usage: offsite dr ${this.usage}`);
  },
};

const failoverAction: AdminAction = {
  name: 'failover',
  usage:
    'failover PLAN --type test|planned|unplanned [--point latest|latest-consistent|TIME] [--port-offset N]',
  summary: 'start a failover of the plan; follow it with `offsite dr run show RUN`',
  options: { type: { type: 'string' }, point: { type: 'string' }, 'port-offset': { type: 'string' } },
  optionHelp: [
    ['--type T', 'failover: test (isolated copy), planned (zero data loss) or unplanned'],
    ['--point P', 'failover: latest (default), latest-consistent or an ISO time'],
    ['--port-offset N', 'failover: added to the ports of a test copy (default 10000)'],
  ],
  async run(ctx, client, args) {
    const [plan] = positionals(args, 1, `offsite dr ${this.usage}`);
    const type = str(ctx.values, 'type');
    if (!type) throw new UsageError(`usage: offsite dr ${this.usage}`);
    const offset = str(ctx.values, 'port-offset');
    const body = {
      type,
      ...(str(ctx.values, 'point') ? { point: str(ctx.values, 'point') } : {}),
      ...(offset ? { portOffset: Number(offset) } : {}),
    };
    const run = (await (await client()).call('POST', planPath(plan!, '/failover'), body)) as RunJson;
    ctx.out.data(run);
    printRun((line) => ctx.out.line(line), run);
    return 0;
  },
};

const failbackAction: AdminAction = {
  name: 'failback',
  usage: 'failback PLAN',
  summary: 'fail back to the original site (a planned failover back) after commit and reprotect',
  async run(ctx, client, args) {
    const [plan] = positionals(args, 1, `offsite dr ${this.usage}`);
    const run = (await (await client()).call('POST', planPath(plan!, '/failback'))) as RunJson;
    ctx.out.data(run);
    printRun((line) => ctx.out.line(line), run);
    return 0;
  },
};

const reprotectAction: AdminAction = {
  name: 'reprotect',
  usage: 'reprotect WORKLOAD|PLAN',
  summary: 'reverse replication after a committed failover: the active site becomes the primary',
  async run(ctx, client, args) {
    const [name] = positionals(args, 1, `offsite dr ${this.usage}`);
    const answer = (await (await client()).call('POST', '/v1/dr/reprotect', { name })) as {
      workloads: { name: string; primarySite: string; replicaSite: string }[];
    };
    ctx.out.data(answer);
    for (const w of answer.workloads)
      ctx.out.line(`${w.name}: replicates ${w.primarySite} -> ${w.replicaSite}`);
    return 0;
  },
};

export const PLAN_ACTIONS: AdminAction[] = [planAction, failoverAction, failbackAction, reprotectAction];

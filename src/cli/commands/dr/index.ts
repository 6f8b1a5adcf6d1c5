import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../../errors/index.ts';
import { checkWorkloadDocument, type DrStatus, readWorkloadYaml } from '../../../vault/dr/index.ts';
import { actionsHelp, findAction, mergedOptionHelp, mergedOptions } from '../../actions.ts';
import type { Command } from '../../command.ts';
import { formatDuration, table } from '../../output.ts';
import { type AdminAction, positionals } from '../site/action.ts';
import { adminClient } from '../vault/client.ts';
import { PLAN_ACTIONS } from './plan-actions.ts';
import { RUN_ACTIONS } from './run-actions.ts';

// `offsite dr ACTION`: disaster recovery from the administrator's side — workload and
// recovery-plan files, the status of sites and workloads, and failover runs.

interface Applied {
  workloads: { name: string; version: number; change: string }[];
}

async function readWorkloadFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the workload file ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
  const document = readWorkloadYaml(text);
  // Checked here for a quick answer naming every problem; the server checks it again.
  checkWorkloadDocument(document);
  return document;
}

function rpo(seconds: number | null): string {
  return seconds === null ? '-' : formatDuration(seconds * 1000);
}

function printStatus(print: (line: string) => void, status: DrStatus): void {
  if (status.sites.length === 0) print('no sites');
  else {
    const rows = status.sites.map((s) => [
      s.name,
      s.vault,
      s.state,
      s.lastHeartbeatAt ?? 'never',
      String(s.inventory?.host ?? '-'),
    ]);
    print(table([['SITE', 'VAULT', 'STATE', 'LAST HEARTBEAT', 'HOST'], ...rows]));
  }
  print('');
  if (status.workloads.length === 0) {
    print('no workloads (declare them with `offsite dr apply FILE`)');
    return;
  }
  const rows = status.workloads.map((w) => [
    w.name,
    `${w.primarySite} -> ${w.replicaSite}`,
    `${w.activeSite} (epoch ${w.fencingEpoch})`,
    w.frequency ?? '-',
    w.replication?.lastPointAt ?? 'none',
    w.replication ? (w.replication.consistent ? 'app' : 'crash') : '-',
    rpo(w.rpoSeconds),
    w.testOverdue ? 'NO TEST FAILOVER IN 90 DAYS' : '',
    w.replication?.error ?? '',
  ]);
  print(
    table([
      ['WORKLOAD', 'REPLICATION', 'ACTIVE', 'EVERY', 'LAST POINT', 'CONSISTENCY', 'RPO', 'DRILL', 'PROBLEM'],
      ...rows,
    ]),
  );
}

const ACTIONS: AdminAction[] = [
  {
    name: 'apply',
    usage: 'apply FILE',
    summary: 'create or update the workloads a YAML file declares (all checked first, applied at once)',
    async run(ctx, client, args) {
      const [file] = positionals(args, 1, `offsite dr ${this.usage}`);
      const document = await readWorkloadFile(file!);
      const applied = (await (await client()).call('PUT', '/v1/dr/workloads', document)) as Applied;
      ctx.out.data(applied);
      for (const w of applied.workloads) ctx.out.line(`${w.name}: ${w.change} (version ${w.version})`);
      return 0;
    },
  },
  {
    name: 'status',
    usage: 'status',
    summary: 'sites (up or down) and workloads: replication health, last recovery point, current RPO',
    async run(ctx, client, args) {
      positionals(args, 0, `offsite dr ${this.usage}`);
      const status = (await (await client()).call('GET', '/v1/dr/status')) as DrStatus;
      ctx.out.data(status);
      printStatus((line) => ctx.out.line(line), status);
      return 0;
    },
  },
  ...PLAN_ACTIONS,
  ...RUN_ACTIONS,
];

export const drCommand: Command = {
  name: 'dr',
  summary: 'disaster recovery: workloads, recovery plans, failover, failback, drills and RPO/RTO',
  usage: 'offsite dr ACTION [FILE] [options]',
  details: [
    ...actionsHelp(ACTIONS),
    '',
    'A workload file is YAML: workloads: [{name, dataPaths, start, stop, health, hooks,',
    'primarySite, replicaSite, replication: {frequency: 30s|5m|15m, extraHourlyPoints: 0..24,',
    'appConsistentEveryHours: N}}]. A plan file is YAML: plans: [{name, groups: [{name,',
    'workloads, pre, post}]}], actions {type: script|manual|delay, onlyFor, onError, timeout}.',
    'A failover (test, planned or unplanned) runs as a persisted state machine on the server;',
    'test failovers are cleaned up with `dr cleanup RUN`. Talks HTTPS to $OFFSITE_SERVER with',
    '$OFFSITE_TOKEN (or --token-file), trusting only $OFFSITE_CA_CERT.',
  ].join('\n'),
  options: mergedOptions('dr', ACTIONS, { 'token-file': { type: 'string' } }),
  optionHelp: [
    ...mergedOptionHelp(ACTIONS),
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    return findAction(ACTIONS, name).run(ctx, () => adminClient(ctx), args);
  },
};

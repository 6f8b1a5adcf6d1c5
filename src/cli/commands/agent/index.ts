import type { ParseArgsOptionsConfig } from 'node:util';
import { type Command, UsageError } from '../../command.ts';
import type { AgentAction } from './action.ts';
import { PASSPHRASE_ACTIONS } from './passphrase.ts';
import { PROXY_ACTIONS } from './proxy.ts';
import { REGISTER_ACTIONS } from './register.ts';
import { RUN_ACTIONS } from './run.ts';
import { SERVICE_ACTIONS } from './service.ts';
import { STATUS_ACTIONS } from './status.ts';
import { THROTTLE_ACTIONS } from './throttle.ts';

// `offsite agent ACTION ...`: this machine as a protected server of a vault, one file per
// group of actions; their options are merged here for parseArgs.

const ACTIONS: AgentAction[] = [
  ...REGISTER_ACTIONS,
  ...STATUS_ACTIONS,
  ...RUN_ACTIONS,
  ...SERVICE_ACTIONS,
  ...THROTTLE_ACTIONS,
  ...PROXY_ACTIONS,
  ...PASSPHRASE_ACTIONS,
];

function mergedOptions(): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const action of ACTIONS) {
    for (const [key, spec] of Object.entries(action.options ?? {})) {
      const known = options[key];
      if (known && known.type !== spec.type)
        throw new Error(`agent option --${key} declared twice differently`);
      options[key] = known?.multiple ? known : spec;
    }
  }
  return options;
}

/** One row per flag; a flag several actions share gets each action's text, joined. */
function optionHelp(): [string, string][] {
  const rows = new Map<string, string[]>();
  for (const [flag, text] of ACTIONS.flatMap((a) => a.optionHelp ?? [])) {
    const texts = rows.get(flag) ?? [];
    if (!texts.includes(text)) texts.push(text);
    rows.set(flag, texts);
  }
  return [...rows].map(([flag, texts]) => [flag, texts.join('; ')]);
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'this machine as a protected server: registration, daemon, throttle, proxy',
  usage: 'offsite agent ACTION [options]',
  details: [
    'actions:',
    ...ACTIONS.flatMap((a) => [`  ${a.usage}`, `      ${a.summary}`]),
    '',
    'The agent keeps its state (client certificate and key, vault address, settings) in',
    '$OFFSITE_AGENT_DIR (default ~/.config/offsite/agent), so several agents can run on one',
    'machine. Once registered, init, backup, restore, snapshots, ls and check work against',
    'the vault without --repo.',
  ].join('\n'),
  options: mergedOptions(),
  optionHelp: optionHelp(),
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    const action = ACTIONS.find((a) => a.name === name);
    if (!action) throw new UsageError(`give one of: ${ACTIONS.map((a) => a.name).join(', ')}`);
    return action.run(ctx, args);
  },
};

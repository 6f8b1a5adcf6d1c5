import { actionsHelp, findAction, mergedOptionHelp, mergedOptions } from '../../actions.ts';
import type { Command } from '../../command.ts';
import type { AgentAction } from './action.ts';
import { PASSPHRASE_ACTIONS } from './passphrase.ts';
import { PROXY_ACTIONS } from './proxy.ts';
import { REGIONS_ACTIONS } from './regions.ts';
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
  ...REGIONS_ACTIONS,
];

export const agentCommand: Command = {
  name: 'agent',
  summary: 'this machine as a protected server: registration, daemon, throttle, proxy',
  usage: 'offsite agent ACTION [options]',
  details: [
    ...actionsHelp(ACTIONS),
    '',
    'The agent keeps its state (client certificate and key, vault address, settings) in',
    '$OFFSITE_AGENT_DIR (default ~/.config/offsite/agent), so several agents can run on one',
    'machine. Once registered, init, backup, restore, snapshots, ls and check work against',
    'the vault without --repo.',
  ].join('\n'),
  options: mergedOptions('agent', ACTIONS),
  optionHelp: mergedOptionHelp(ACTIONS),
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    const action = findAction(ACTIONS, name);
    return action.run(ctx, args);
  },
};

import { actionsHelp, findAction, mergedOptionHelp, mergedOptions } from '../../actions.ts';
import type { Command } from '../../command.ts';
import type { VaultAction } from './action.ts';
import { ALERTS_ACTIONS } from './alerts.ts';
import { adminClient } from './client.ts';
import { CRUD_ACTIONS } from './crud.ts';
import { GEO_ACTIONS } from './geo.ts';
import { JOBS_ACTIONS } from './jobs.ts';
import { KEYS_ACTIONS } from './keys.ts';
import { POINTS_ACTIONS } from './points.ts';
import { POLICY_ACTIONS } from './policy.ts';
import { REBUILD_ACTIONS } from './rebuild.ts';
import { REGISTRATION_ACTIONS } from './registration.ts';
import { USAGE_ACTIONS } from './usage.ts';

// `offsite vault ACTION ...`: the admin API of a vault server, one file per group of
// actions. Each action declares its own options; they are merged here for parseArgs.

const ACTIONS: VaultAction[] = [
  ...CRUD_ACTIONS,
  ...GEO_ACTIONS,
  ...POLICY_ACTIONS,
  ...REGISTRATION_ACTIONS,
  ...POINTS_ACTIONS,
  ...KEYS_ACTIONS,
  ...USAGE_ACTIONS,
  ...JOBS_ACTIONS,
  ...ALERTS_ACTIONS,
  ...REBUILD_ACTIONS,
];

export const vaultCommand: Command = {
  name: 'vault',
  summary: 'manage vaults on a vault server: settings, registration, recovery points, usage, jobs',
  usage: 'offsite vault ACTION [NAME] [options]',
  details: [
    ...actionsHelp(ACTIONS),
    '',
    'Talks HTTPS to $OFFSITE_SERVER (e.g. https://vault.example:8443) with the API token in',
    '$OFFSITE_TOKEN or --token-file, trusting only the CA certificate in $OFFSITE_CA_CERT',
    "(the server's DATA_DIR/ca.pem).",
  ].join('\n'),
  options: mergedOptions('vault', ACTIONS, { 'token-file': { type: 'string' } }),
  optionHelp: [
    ...mergedOptionHelp(ACTIONS),
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    const action = findAction(ACTIONS, name);
    return action.run(ctx, () => adminClient(ctx), args);
  },
};

import { resolve } from 'node:path';
import { installService } from '../../../agent/daemon/index.ts';
import { agentDir } from '../../../agent/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import type { AgentAction } from './action.ts';

// `offsite agent install-service`: the daemon as a systemd service for one agent folder.

async function install(ctx: CommandContext): Promise<number> {
  const passwordFile = str(ctx.values, 'password-file');
  const unitDir = str(ctx.values, 'unit-dir');
  const user = str(ctx.values, 'user');
  const installed = await installService({
    agentDir: resolve(str(ctx.values, 'agent-dir') ?? agentDir(ctx.env)),
    ...(user ? { user } : {}),
    ...(passwordFile ? { passwordFile: resolve(passwordFile) } : {}),
    ...(unitDir ? { unitDir: resolve(unitDir) } : {}),
  });
  ctx.out.data(installed);
  for (const file of installed.files) ctx.out.line(`wrote ${file}`);
  if (installed.reloaded) ctx.out.line('systemd reloaded (systemctl daemon-reload)');
  for (const note of installed.notes) ctx.out.note(`note: ${note}`);
  ctx.out.line(`start it with: systemctl enable --now '${installed.unit}'`);
  return 0;
}

export const SERVICE_ACTIONS: AgentAction[] = [
  {
    name: 'install-service',
    usage: 'install-service [--agent-dir DIR] [--user USER] [--password-file FILE] [--unit-dir DIR]',
    summary: 'install the daemon as a systemd service (offsite-agent@<agent folder>.service)',
    options: {
      'agent-dir': { type: 'string' },
      user: { type: 'string' },
      'password-file': { type: 'string' },
      'unit-dir': { type: 'string' },
    },
    optionHelp: [
      ['--agent-dir DIR', 'install-service: the agent folder to run (default: $OFFSITE_AGENT_DIR)'],
      [
        '--user USER',
        'install-service: the account the daemon runs as (default root); proxy set: the proxy user',
      ],
      ['--unit-dir DIR', 'install-service: where units go (default /etc/systemd/system)'],
    ],
    run: (ctx, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return install(ctx);
    },
  },
];

import {
  registerSiteAgent,
  requireSiteAgentState,
  runSiteAgent,
  siteAgentDir,
} from '../../../dr/agent/index.ts';
import { parseDuration } from '../../../util/index.ts';
import { type ActionSpec, actionsHelp, findAction, mergedOptionHelp, mergedOptions } from '../../actions.ts';
import { type Command, type CommandContext, str, UsageError } from '../../command.ts';

// `offsite site-agent register|run`: this machine as the site agent of a site.

interface SiteAgentAction extends ActionSpec {
  run(ctx: CommandContext, args: string[]): Promise<number>;
}

const DEFAULT_HEARTBEAT = '10s';
const DEFAULT_POLL = '2s';
const DEFAULT_RETENTION = '10m';

/** HOST:PORT or [IPv6]:PORT; port 0 picks a free one. */
function hostPort(text: string, option: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : -1;
  if (!match || port > 65535) throw new UsageError(`${option} must be HOST:PORT, got "${text.slice(0, 80)}"`);
  return { host: match[1] ?? match[2]!, port };
}

function noArgs(args: string[], usage: string): void {
  if (args.length > 0)
    throw new UsageError(`unexpected argument "${args[0]}"; usage: offsite site-agent ${usage}`);
}

const ACTIONS: SiteAgentAction[] = [
  {
    name: 'register',
    usage: 'register --credentials FILE [--force]',
    summary: 'register this machine as the site agent of the site the credentials file names',
    options: { credentials: { type: 'string' }, force: { type: 'boolean' } },
    optionHelp: [
      ['--credentials FILE', 'a site credentials file (`offsite site credentials SITE --out FILE`)'],
      ['--force', 'replace the registration this folder holds'],
    ],
    async run(ctx, args) {
      noArgs(args, this.usage);
      const credentialsFile = str(ctx.values, 'credentials');
      if (!credentialsFile) throw new UsageError('register needs --credentials FILE');
      const dir = siteAgentDir(ctx.env);
      const state = await registerSiteAgent({ dir, credentialsFile, force: ctx.values.force === true });
      ctx.out.data({ dir, site: state.info.site, vault: state.info.vault, server: state.info.server });
      ctx.out.line(
        `registered as the site agent of site ${state.info.site.name} (vault ${state.info.vault.name})`,
      );
      ctx.out.line(`certificate and key in ${dir} (mode 0600); start it with: offsite site-agent run`);
      return 0;
    },
  },
  {
    name: 'run',
    usage:
      'run [--heartbeat-interval DURATION] [--poll-interval DURATION] [--replication-listen HOST:PORT] [--replication-advertise HOST:PORT] [--retention-interval DURATION]',
    summary: 'send heartbeats, replicate, and run the commands of the server until SIGTERM or SIGINT',
    options: {
      'heartbeat-interval': { type: 'string' },
      'poll-interval': { type: 'string' },
      'replication-listen': { type: 'string' },
      'replication-advertise': { type: 'string' },
      'retention-interval': { type: 'string' },
    },
    optionHelp: [
      ['--heartbeat-interval DURATION', `time between heartbeats (default ${DEFAULT_HEARTBEAT})`],
      ['--poll-interval DURATION', `time between polls for commands (default ${DEFAULT_POLL})`],
      [
        '--replication-listen HOST:PORT',
        'where the peer site agent sends replicas (mutual TLS; port 0: any free one); without it this site neither sends nor receives replicas',
      ],
      [
        '--replication-advertise HOST:PORT',
        'the address the peer dials, when it is not the listening one (NAT, 0.0.0.0)',
      ],
      ['--retention-interval DURATION', `time between replica retention runs (default ${DEFAULT_RETENTION})`],
    ],
    async run(ctx, args) {
      noArgs(args, this.usage);
      const state = await requireSiteAgentState(siteAgentDir(ctx.env));
      const heartbeatMs = parseDuration(str(ctx.values, 'heartbeat-interval') ?? DEFAULT_HEARTBEAT);
      const pollMs = parseDuration(str(ctx.values, 'poll-interval') ?? DEFAULT_POLL);
      if (heartbeatMs < 100 || pollMs < 100) throw new UsageError('intervals must be at least 100ms');
      const listenText = str(ctx.values, 'replication-listen');
      const listen = listenText ? hostPort(listenText, '--replication-listen') : undefined;
      if (!listen)
        ctx.out.note('offsite site-agent: no --replication-listen: replication is off at this site');
      const advertise = str(ctx.values, 'replication-advertise');
      if (advertise) hostPort(advertise, '--replication-advertise');
      const retentionEveryMs = parseDuration(str(ctx.values, 'retention-interval') ?? DEFAULT_RETENTION);
      const controller = new AbortController();
      const stop = (signal: string) => {
        ctx.out.note(`offsite site-agent: ${signal}, stopping`);
        controller.abort();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      ctx.out.note(`offsite site-agent: site ${state.info.site.name}, server ${state.info.server}`);
      await runSiteAgent({
        state,
        signal: controller.signal,
        heartbeatMs,
        pollMs,
        ...(listen ? { replicationListen: listen } : {}),
        ...(advertise ? { replicationAdvertise: advertise } : {}),
        retentionEveryMs,
        log: (entry) => {
          if (!ctx.out.quiet) process.stderr.write(`${JSON.stringify(entry)}\n`);
        },
      });
      ctx.out.note('offsite site-agent: stopped');
      return 0;
    },
  },
];

export const siteAgentCommand: Command = {
  name: 'site-agent',
  summary: 'this machine as the site agent of a disaster recovery site',
  usage: 'offsite site-agent ACTION [options]',
  details: [
    ...actionsHelp(ACTIONS),
    '',
    'The site agent keeps its state (certificate and key issued by the vault, mode 0600) in',
    '$OFFSITE_SITE_AGENT_DIR (default ~/.config/offsite/site-agent).',
  ].join('\n'),
  options: mergedOptions('site-agent', ACTIONS),
  optionHelp: mergedOptionHelp(ACTIONS),
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    return findAction(ACTIONS, name).run(ctx, args);
  },
};

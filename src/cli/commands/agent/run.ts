import { jsonLines, runDaemon, systemClock } from '../../../agent/daemon/index.ts';
import { agentDir, requireAgentState } from '../../../agent/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import { readPassphrase } from '../../passphrase.ts';
import type { AgentAction } from './action.ts';

// `offsite agent run`: the daemon in the foreground (systemd runs it; see install-service).
// It logs one JSON line per event on stderr. SIGTERM or SIGINT stops it: a running backup
// gets --stop-grace seconds to finish, a second signal abandons it at once.

const DEFAULT_STOP_GRACE_S = 30;

function stopGraceMs(ctx: CommandContext): number {
  const text = str(ctx.values, 'stop-grace');
  if (text === undefined) return DEFAULT_STOP_GRACE_S * 1000;
  if (!/^\d{1,5}$/.test(text)) throw new UsageError('--stop-grace must be a whole number of seconds');
  return Number(text) * 1000;
}

/** Tests stand the daemon's clock just before a scheduled time or a DST change; users never need it. */
function clockOffsetMs(env: NodeJS.ProcessEnv): number {
  const text = env.OFFSITE_AGENT_CLOCK_OFFSET_MS;
  if (text === undefined || text === '') return 0;
  if (!/^-?\d+$/.test(text)) throw new UsageError('OFFSITE_AGENT_CLOCK_OFFSET_MS must be a whole number');
  return Number(text);
}

async function run(ctx: CommandContext): Promise<number> {
  const dir = agentDir(ctx.env);
  await requireAgentState(dir);
  const passwordFile = str(ctx.values, 'password-file');
  if (!passwordFile && !ctx.env.OFFSITE_PASSWORD_FILE && !ctx.env.OFFSITE_PASSWORD) {
    throw new UsageError(
      'the daemon cannot prompt for the passphrase: set OFFSITE_PASSWORD_FILE (or OFFSITE_PASSWORD), or give --password-file',
    );
  }
  const passphrase = () => readPassphrase({ passwordFile, env: ctx.env });
  await passphrase(); // an unreadable password file fails now, not at the first backup
  const stop = new AbortController();
  const abandon = new AbortController();
  const onSignal = () => (stop.signal.aborted ? abandon.abort() : stop.abort());
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const result = await runDaemon({
      agentDir: dir,
      clock: systemClock(clockOffsetMs(ctx.env)),
      stop: stop.signal,
      abandon: abandon.signal,
      passphrase,
      log: jsonLines(),
      stopGraceMs: stopGraceMs(ctx),
    });
    // An abandoned backup is still in flight in this process: end it here (the engine is
    // crash-safe, and its job was reported as failed).
    if (result.abandoned) process.exit(0);
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

export const RUN_ACTIONS: AgentAction[] = [
  {
    name: 'run',
    usage: 'run [--password-file FILE] [--stop-grace SECONDS]',
    summary: "the daemon: back up the vault policy's sources on its schedule (logs JSON lines on stderr)",
    options: {
      'password-file': { type: 'string' },
      'stop-grace': { type: 'string' },
    },
    optionHelp: [
      // `agent --help` keeps one row per flag, so this one speaks for every action using it.
      [
        '--password-file FILE',
        'run, passphrase change: the repository passphrase (also $OFFSITE_PASSWORD_FILE); install-service: where the service reads it (default AGENT_DIR/passphrase); proxy set: the proxy password',
      ],
      [
        '--stop-grace SECONDS',
        `run: once stopped, how long a running backup may finish (default ${DEFAULT_STOP_GRACE_S})`,
      ],
    ],
    run: (ctx, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return run(ctx);
    },
  },
];

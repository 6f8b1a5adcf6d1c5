import { clearProxy, proxySummary, saveProxy } from '../../../agent/network.ts';
import { agentDir } from '../../../agent/state.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import type { AgentAction } from './action.ts';

// The HTTP proxy every connection of this agent to its vault goes through (CONNECT, with
// basic authentication). It may be set before `agent register`, which then uses it. The
// password is copied into the agent folder (0600) and never printed.

async function set(ctx: CommandContext, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError('give the proxy URL: proxy set http://HOST:PORT');
  const dir = agentDir(ctx.env);
  const user = str(ctx.values, 'user');
  const passwordFile = str(ctx.values, 'password-file');
  const settings = await saveProxy(dir, {
    url: args[0]!,
    ...(user !== undefined ? { user } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : {}),
  });
  ctx.out.data({ url: settings.url, user: settings.user ?? null });
  ctx.out.line(`proxy set: ${settings.url}${settings.user ? ` as ${settings.user}` : ''}`);
  if (passwordFile !== undefined) {
    ctx.out.line(
      `the password was copied into ${dir} (readable by this user only); ${passwordFile} may be deleted`,
    );
  }
  return 0;
}

async function show(ctx: CommandContext): Promise<number> {
  const summary = await proxySummary(agentDir(ctx.env));
  ctx.out.data(summary.json);
  for (const line of summary.lines) ctx.out.line(line);
  return 0;
}

async function clear(ctx: CommandContext): Promise<number> {
  await clearProxy(agentDir(ctx.env));
  ctx.out.data(null);
  ctx.out.line('proxy cleared: the agent connects to its vault directly');
  return 0;
}

async function proxy(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'set') return await set(ctx, rest);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (sub === 'show' || sub === undefined) return await show(ctx);
  if (sub === 'clear') return await clear(ctx);
  throw new UsageError(`give one of: proxy set URL, proxy show, proxy clear (not "${sub}")`);
}

export const PROXY_ACTIONS: AgentAction[] = [
  {
    name: 'proxy',
    usage: 'proxy set URL [--user USER --password-file FILE] | proxy show | proxy clear',
    summary: 'the HTTP proxy (CONNECT, basic auth) every connection to the vault goes through',
    options: {
      user: { type: 'string' },
      'password-file': { type: 'string' },
    },
    optionHelp: [
      ['--user USER', 'proxy user (basic authentication)'],
      ['--password-file FILE', "a file holding the proxy user's password (copied into the agent folder)"],
    ],
    run: proxy,
  },
];

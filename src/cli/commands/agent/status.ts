import { X509Certificate } from 'node:crypto';
import { scheduleSummary } from '../../../agent/daemon/index.ts';
import { agentClient, agentDir, requireAgentState } from '../../../agent/index.ts';
import { proxySummary, throttleSummary } from '../../../agent/network.ts';
import type { JsonObject } from '../../../vault/catalog/index.ts';
import { type CommandContext, UsageError } from '../../command.ts';
import type { AgentAction } from './action.ts';

// What this agent is: its registration, certificate and the vault's policy.

async function status(ctx: CommandContext): Promise<number> {
  const state = await requireAgentState(agentDir(ctx.env));
  const cert = new X509Certificate(state.certPem);
  const who = (await agentClient(state).call('GET', '/v1/agent/whoami')) as { policy: JsonObject | null };
  const [throttle, proxy, schedule] = await Promise.all([
    throttleSummary(state.dir),
    proxySummary(state.dir),
    scheduleSummary(state, { policy: who.policy }),
  ]);
  const info = {
    ...state.info,
    dir: state.dir,
    certificateNotAfter: new Date(cert.validTo).toISOString(),
    policy: who.policy,
    schedule: schedule.json,
    throttle: throttle.json,
    proxy: proxy.json,
  };
  ctx.out.data(info);
  ctx.out.line(`server:       ${state.info.name} (${state.info.serverId})`);
  ctx.out.line(`vault:        ${state.info.vault.name} at ${state.info.server}`);
  ctx.out.line(`registered:   ${state.info.registeredAt} by ${state.info.via}`);
  ctx.out.line(`certificate:  valid until ${info.certificateNotAfter}`);
  ctx.out.line(`policy:       ${who.policy ? JSON.stringify(who.policy) : 'none set'}`);
  for (const line of [...schedule.lines, ...throttle.lines, ...proxy.lines]) ctx.out.line(line);
  return 0;
}

export const STATUS_ACTIONS: AgentAction[] = [
  {
    name: 'status',
    usage: 'status',
    summary: "show this agent's registration, certificate and policy",
    run: (ctx, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return status(ctx);
    },
  },
];

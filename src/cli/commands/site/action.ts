import type { ServerClient } from '../../../server/index.ts';
import type { ActionSpec } from '../../actions.ts';
import type { CommandContext } from '../../command.ts';
import { UsageError } from '../../command.ts';

/** One `offsite site ACTION` or `offsite dr ACTION` subcommand over the admin API. */
export interface AdminAction extends ActionSpec {
  run(ctx: CommandContext, client: () => Promise<ServerClient>, args: string[]): Promise<number>;
}

export function sitePath(name: string, rest = ''): string {
  return `/v1/sites/${encodeURIComponent(name)}${rest}`;
}

/** Exactly `count` positionals, or the action's usage. */
export function positionals(args: string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new UsageError(`usage: ${usage}`);
  return args;
}

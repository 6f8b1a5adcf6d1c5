import type { ActionSpec } from '../../actions.ts';
import type { CommandContext } from '../../command.ts';

/** One `offsite agent ACTION` subcommand; the agent command merges their options. */
export interface AgentAction extends ActionSpec {
  /** `args` are the positionals after the action's name. */
  run(ctx: CommandContext, args: string[]): Promise<number>;
}

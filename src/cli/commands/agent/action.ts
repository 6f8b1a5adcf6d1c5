import type { ParseArgsOptionsConfig } from 'node:util';
import type { CommandContext } from '../../command.ts';

/** One `offsite agent ACTION` subcommand; the agent command merges their options. */
export interface AgentAction {
  name: string;
  /** Usage after "offsite agent ". */
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  optionHelp?: [string, string][];
  /** `args` are the positionals after the action's name. */
  run(ctx: CommandContext, args: string[]): Promise<number>;
}

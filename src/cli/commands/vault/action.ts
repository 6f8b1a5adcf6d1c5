import type { ServerClient } from '../../../server/index.ts';
import type { ActionSpec } from '../../actions.ts';
import type { CommandContext } from '../../command.ts';

/**
 * One `offsite vault ACTION` subcommand. The vault command merges every action's options
 * (parseArgs needs them all up front) and dispatches on the first positional argument.
 */
export interface VaultAction extends ActionSpec {
  /** `args` are the positionals after the action's name. */
  run(ctx: CommandContext, client: () => Promise<ServerClient>, args: string[]): Promise<number>;
}

/** The vault name in a vault-scoped API path, escaped. */
export function vaultPath(name: string, rest = ''): string {
  return `/v1/vaults/${encodeURIComponent(name)}${rest}`;
}

import type { ParseArgsOptionsConfig } from 'node:util';
import { UsageError } from './command.ts';

// Commands made of actions (`offsite vault ACTION`, `offsite agent ACTION`): parseArgs
// needs every action's options up front, so they are merged here, with their help rows.

export interface ActionSpec {
  name: string;
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  optionHelp?: [string, string][];
}

/** Every action's options in one config; a flag two actions declare differently is a bug. */
export function mergedOptions(
  command: string,
  actions: readonly ActionSpec[],
  base: ParseArgsOptionsConfig = {},
): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = { ...base };
  for (const action of actions) {
    for (const [key, spec] of Object.entries(action.options ?? {})) {
      const known = options[key];
      if (known && known.type !== spec.type)
        throw new Error(`${command} option --${key} declared twice differently`);
      options[key] = known?.multiple ? known : spec;
    }
  }
  return options;
}

/** One help row per flag; a flag several actions share gets each action's text, joined. */
export function mergedOptionHelp(actions: readonly ActionSpec[]): [string, string][] {
  const rows = new Map<string, string[]>();
  for (const [flag, text] of actions.flatMap((a) => a.optionHelp ?? [])) {
    const texts = rows.get(flag) ?? [];
    if (!texts.includes(text)) texts.push(text);
    rows.set(flag, texts);
  }
  return [...rows].map(([flag, texts]) => [flag, texts.join('; ')]);
}

/** The "actions:" block of the command's help. */
export function actionsHelp(actions: readonly ActionSpec[]): string[] {
  return ['actions:', ...actions.flatMap((a) => [`  ${a.usage}`, `      ${a.summary}`])];
}

export function findAction<A extends ActionSpec>(actions: readonly A[], name: string | undefined): A {
  const action = actions.find((a) => a.name === name);
  if (!action) throw new UsageError(`give one of: ${actions.map((a) => a.name).join(', ')}`);
  return action;
}

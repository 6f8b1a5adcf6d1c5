import type { AgentAction } from './action.ts';

export const PASSPHRASE_ACTIONS: AgentAction[] = [];

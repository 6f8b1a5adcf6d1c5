import type { AgentAction } from './action.ts';

export const RUN_ACTIONS: AgentAction[] = [];

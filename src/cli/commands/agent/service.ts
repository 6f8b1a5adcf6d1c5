import type { AgentAction } from './action.ts';

export const SERVICE_ACTIONS: AgentAction[] = [];

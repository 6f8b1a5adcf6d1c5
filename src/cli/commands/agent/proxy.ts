import type { AgentAction } from './action.ts';

export const PROXY_ACTIONS: AgentAction[] = [];

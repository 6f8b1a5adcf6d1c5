import type { AgentAction } from './action.ts';

export const THROTTLE_ACTIONS: AgentAction[] = [];

import type { VaultAction } from './action.ts';

export const ALERTS_ACTIONS: VaultAction[] = [];

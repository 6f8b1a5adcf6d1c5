import type { VaultAction } from './action.ts';

export const USAGE_ACTIONS: VaultAction[] = [];

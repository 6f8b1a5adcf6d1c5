import type { VaultAction } from './action.ts';

export const POINTS_ACTIONS: VaultAction[] = [];

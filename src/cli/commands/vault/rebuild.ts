import type { VaultAction } from './action.ts';

export const REBUILD_ACTIONS: VaultAction[] = [];

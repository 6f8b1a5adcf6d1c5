import type { VaultAction } from './action.ts';

export const POLICY_ACTIONS: VaultAction[] = [];

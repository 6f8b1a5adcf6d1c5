import type { VaultAction } from './action.ts';

export const REGISTRATION_ACTIONS: VaultAction[] = [];

import type { VaultAction } from './action.ts';

export const JOBS_ACTIONS: VaultAction[] = [];

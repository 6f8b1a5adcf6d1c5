import type { Route } from './types.ts';

export const JOB_ROUTES: readonly Route[] = [];

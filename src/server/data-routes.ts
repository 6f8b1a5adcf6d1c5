import type { Route } from './types.ts';

export const DATA_ROUTES: readonly Route[] = [];

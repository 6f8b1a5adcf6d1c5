import type { Route } from './types.ts';

export const PEOPLE_ROUTES: readonly Route[] = [];

import type { Route } from './types.ts';

export const POINT_ROUTES: readonly Route[] = [];

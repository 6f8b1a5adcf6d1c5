import type { Route } from './types.ts';

export const REGISTRATION_ROUTES: readonly Route[] = [];

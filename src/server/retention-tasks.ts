import type { BackgroundTask } from './background.ts';

export const RETENTION_TASKS: readonly BackgroundTask[] = [];

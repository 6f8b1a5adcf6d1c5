import type { BackgroundTask } from './background.ts';

export const OPS_TASKS: readonly BackgroundTask[] = [];

import { checkSiteSilence } from '../vault/dr/index.ts';
import type { BackgroundTask } from './background.ts';

// Watching the sites: one whose site agent has been silent longer than the server's limit
// (--site-down-after, default DEFAULT_SITE_DOWN_AFTER_MS) is marked down with a critical
// alert; its next heartbeat marks it up and resolves the alert (src/vault/dr/heartbeat.ts).

export const DEFAULT_SITE_DOWN_AFTER_MS = 60_000;
const CHECK_EVERY_MS = 10_000;

export function drTasks(options: { siteDownAfterMs?: number | undefined } = {}): BackgroundTask[] {
  const silenceMs = options.siteDownAfterMs ?? DEFAULT_SITE_DOWN_AFTER_MS;
  return [
    {
      name: 'dr-site-silence',
      // Often enough that a site is found down within a third of the limit after it.
      everyMs: Math.max(1000, Math.min(CHECK_EVERY_MS, Math.floor(silenceMs / 3))),
      run: async (services) => {
        await checkSiteSilence(services.catalog, services.now(), silenceMs);
      },
    },
  ];
}

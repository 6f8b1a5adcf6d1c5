// The load bench with a small budget: 50 agents, each its own process with its own client
// certificate (registered through its own credentials file), two backups each into one
// vault server process, concurrently; every job succeeds and every committed point
// restores byte for byte. No timing is asserted (bench/load.ts reports the figures).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad } from '../bench/load-run.ts';

const AGENTS = Number(process.env.OFFSITE_LOAD_AGENTS ?? 50);

test(`${AGENTS} agents back up concurrently into one vault: no failed job, every point restores`, {
  timeout: 10 * 60_000,
}, async (t) => {
  const result = await runLoad({ agents: AGENTS, seconds: 600, maxBackups: 2, log: (l) => t.diagnostic(l) });
  t.diagnostic(
    `${result.jobs} jobs in ${result.backupPhaseSeconds} s, ${result.requests} requests, ` +
      `p50/p99 ${result.latency['(all requests)']!.p50}/${result.latency['(all requests)']!.p99} ms`,
  );
  assert.deepEqual(result.failures, [], 'no failed job');
  assert.equal(result.jobs, AGENTS * 2, 'every agent ran its two backups');
  assert.equal(result.pointsListed, result.jobs, 'the vault lists one point per job');
  assert.equal(result.pointsRestored, result.jobs, 'every point restored and matched its data set');
  assert.equal(result.server5xx, 0, 'the server answered no request with a 5xx');
});

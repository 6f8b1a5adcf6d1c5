// Load bench: N agents (own processes, own client certificates) back up concurrently into
// one vault server (its own process) for a while, then restore and verify every point.
//
//   npx node bench/load.ts --agents 50 --seconds 180
//
// Prints failed jobs, client-side p50/p95/p99 latency per route group, throughput, and
// writes the figures to bench/results/load-<time>.json. Exit code 1 if any job failed.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './load-run.ts';
import { formatTable } from './load-stats.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '180' },
    'max-backups': { type: 'string' },
  },
});
const agents = Number(values.agents);
const seconds = Number(values.seconds);
if (!(Number.isInteger(agents) && agents > 0 && seconds > 0)) {
  console.error('usage: node bench/load.ts [--agents N] [--seconds S] [--max-backups N]');
  process.exit(2);
}
const maxBackups = values['max-backups'] ? Number(values['max-backups']) : undefined;
const result = await runLoad({
  agents,
  seconds,
  ...(maxBackups ? { maxBackups } : {}),
  log: (line) => console.log(line),
});
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
console.log(`\njobs: ${result.jobs}, failed: ${result.failedJobs}`);
for (const f of result.failures.slice(0, 20)) console.log(`  ${f.agent} ${f.phase}: ${f.message}`);
console.log(`points restored and verified: ${result.pointsRestored} (vault lists ${result.pointsListed})`);
console.log(`backup phase: ${result.backupPhaseSeconds} s; server answers with 5xx: ${result.server5xx}`);
console.log(
  `throughput: ${result.processedMBps} MB/s processed (${mb(result.bytesProcessed)}), ` +
    `${result.storedMBps} MB/s stored (${mb(result.bytesStored)}), ${result.requestsPerSecond} requests/s`,
);
console.log('\nAPI latency, client side (request start → answer headers), backup and restore phases:');
console.log(formatTable(result.latency));
const dir = resolve(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version };
await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, ...result }, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
process.exit(result.failedJobs === 0 && result.pointsRestored === result.jobs ? 0 : 1);

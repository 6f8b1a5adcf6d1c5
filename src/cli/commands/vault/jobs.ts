import { type CommandContext, str, UsageError } from '../../command.ts';
import { formatBytes, formatDuration, table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// The jobs agents reported to a vault: the list, and one job with its skipped files.

interface Job {
  id: string;
  kind: string;
  status: string;
  server: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  bytes: number;
  error: string | null;
  skippedCount: number;
  skippedFiles?: { path: string; error: string }[];
  skippedFilesOmitted?: number;
}

type Client = Parameters<VaultAction['run']>[1];

function limitOption(ctx: CommandContext): string | undefined {
  const limit = str(ctx.values, 'limit');
  if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit))
    throw new UsageError('--limit must be a whole number from 1 to 1000');
  return limit;
}

async function listJobs(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const [vault, extra] = args;
  if (!vault) throw new UsageError('jobs needs the vault NAME');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const query = new URLSearchParams();
  const server = str(ctx.values, 'server');
  if (server) query.set('server', server);
  const limit = limitOption(ctx);
  if (limit) query.set('limit', limit);
  const { jobs } = (await (await client()).call('GET', vaultPath(vault, `/jobs?${query}`))) as {
    jobs: Job[];
  };
  ctx.out.data({ jobs });
  if (jobs.length === 0) {
    ctx.out.line('no jobs');
    return 0;
  }
  const rows = jobs.map((j) => [
    j.id,
    j.kind,
    j.status,
    j.server ?? '-',
    j.startedAt,
    j.durationMs === null ? '-' : formatDuration(j.durationMs),
    formatBytes(j.bytes),
    String(j.skippedCount),
  ]);
  ctx.out.line(table([['ID', 'KIND', 'STATUS', 'SERVER', 'STARTED', 'TOOK', 'BYTES', 'SKIPPED'], ...rows]));
  return 0;
}

function describeJob(j: Job): string[] {
  const lines = [
    `id:       ${j.id}`,
    `kind:     ${j.kind}`,
    `status:   ${j.status}`,
    `server:   ${j.server ?? '-'}`,
    `started:  ${j.startedAt}`,
    `ended:    ${j.endedAt ?? '-'}${j.durationMs === null ? '' : ` (${formatDuration(j.durationMs)})`}`,
    `bytes:    ${formatBytes(j.bytes)}`,
    ...(j.error ? [`error:    ${j.error}`] : []),
    `skipped:  ${j.skippedCount} file(s)`,
  ];
  for (const f of j.skippedFiles ?? []) lines.push(`  ${f.path}: ${f.error}`);
  if (j.skippedFilesOmitted) lines.push(`  ... and ${j.skippedFilesOmitted} more not listed`);
  return lines;
}

async function showJob(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const [vault, id, extra] = args;
  if (!vault || !id) throw new UsageError('job needs the vault NAME and the job ID');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const job = (await (
    await client()
  ).call('GET', vaultPath(vault, `/jobs/${encodeURIComponent(id)}`))) as Job;
  ctx.out.data(job);
  for (const line of describeJob(job)) ctx.out.line(line);
  return 0;
}

export const JOBS_ACTIONS: VaultAction[] = [
  {
    name: 'jobs',
    usage: 'jobs NAME [--server S] [--limit N]',
    summary: "list a vault's jobs, newest first",
    options: { server: { type: 'string' }, limit: { type: 'string' } },
    optionHelp: [
      ['--server S', 'only this registered server'],
      ['--limit N', 'at most N jobs (default 100, at most 1000)'],
    ],
    run: listJobs,
  },
  {
    name: 'job',
    usage: 'job NAME ID',
    summary: 'show one job with its skipped files',
    run: showJob,
  },
];

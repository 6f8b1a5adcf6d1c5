import { findSnapshot, listSnapshots, type SnapshotRef, shortId } from '../../repo/index.ts';
import { type PruneResult, prune } from '../../repo/prune.ts';
import type { Repository } from '../../repo/repository.ts';
import {
  applyPolicy,
  type Decision,
  groupSnapshots,
  type RetentionPolicy,
  validatePolicy,
} from '../../repo/retention.ts';
import { Semaphore } from '../../util/index.ts';
import {
  type Command,
  type CommandContext,
  list,
  openRepository,
  REPO_OPTION_HELP,
  REPO_OPTIONS,
  snapshotFilter,
  str,
  UsageError,
} from '../command.ts';
import { formatBytes, table } from '../output.ts';

const COUNTS = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

interface GroupResult {
  host: string;
  paths: string[];
  keep: Decision[];
  remove: Decision[];
}

function policyFrom(ctx: CommandContext): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const kind of COUNTS) {
    const text = str(ctx.values, `keep-${kind}`);
    if (text === undefined) continue;
    if (!/^(-1|\d+)$/.test(text)) {
      throw new UsageError(`--keep-${kind} needs a whole number (or -1 for all), not "${text}"`);
    }
    policy[kind] = Number(text);
  }
  const within = str(ctx.values, 'keep-within');
  if (within !== undefined) policy.within = within;
  const tags = list(ctx.values, 'keep-tag');
  if (tags.length > 0) policy.tags = tags;
  return policy;
}

const timeZone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
// Swedish dates read as ISO 8601: "2024-05-01 12:00:00", in the local time zone.
const localTime = new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' });

function when(ref: SnapshotRef): string {
  return localTime.format(new Date(ref.snapshot.time));
}

async function removeSnapshots(repo: Repository, refs: SnapshotRef[]): Promise<string[]> {
  const limit = new Semaphore(8);
  await Promise.all(refs.map((r) => limit.run(() => repo.store.delete(`snapshots/${r.id}`))));
  return refs.map((r) => r.id);
}

function printGroup(ctx: CommandContext, group: GroupResult): void {
  const { out } = ctx;
  out.line(`host ${group.host}, paths ${group.paths.join(' ')}`);
  const plural = (n: number) => `${n} snapshot${n === 1 ? '' : 's'}`;
  out.line(`keep ${plural(group.keep.length)}${group.keep.length > 0 ? ':' : ''}`);
  if (group.keep.length > 0) {
    const rows = [['ID', 'Time', 'Tags', 'Reasons']];
    for (const { ref, reasons } of group.keep) {
      rows.push([shortId(ref.id), when(ref), ref.snapshot.tags.join(','), reasons.join(', ')]);
    }
    out.line(indent(table(rows)));
  }
  out.line(`remove ${plural(group.remove.length)}${group.remove.length > 0 ? ':' : ''}`);
  if (group.remove.length > 0) {
    const rows = [['ID', 'Time', 'Tags']];
    for (const { ref } of group.remove) rows.push([shortId(ref.id), when(ref), ref.snapshot.tags.join(',')]);
    out.line(indent(table(rows)));
  }
  out.line();
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function printText(
  ctx: CommandContext,
  groups: GroupResult[],
  how: { byId: boolean; dryRun: boolean; wantPrune: boolean; pruned: PruneResult | undefined },
): void {
  const { byId, dryRun, wantPrune, pruned } = how;
  if (byId) {
    const rows = [['ID', 'Time', 'Host', 'Tags', 'Paths']];
    for (const { ref } of groups.flatMap((g) => g.remove)) {
      const s = ref.snapshot;
      rows.push([shortId(ref.id), when(ref), s.hostname, s.tags.join(','), s.paths.join(' ')]);
    }
    ctx.out.line(table(rows));
  } else {
    ctx.out.line(`calendar periods in time zone ${timeZone}\n`);
    for (const group of groups) printGroup(ctx, group);
  }
  const n = groups.reduce((sum, g) => sum + g.remove.length, 0);
  const snapshots = `${n} snapshot${n === 1 ? '' : 's'}`;
  if (n === 0) ctx.out.line('nothing to remove');
  else if (dryRun) ctx.out.line(`dry run: ${snapshots} would be removed; nothing was removed`);
  else ctx.out.line(`removed ${snapshots}`);
  if (wantPrune && dryRun) ctx.out.line('dry run: prune not run');
  if (pruned) {
    ctx.out.line(
      `prune: ${pruned.plan.remove.length} packs deleted (${formatBytes(pruned.deletedBytes)}), ` +
        `${pruned.plan.condemn.length + pruned.plan.repack.length} condemned (deleted by a later prune ` +
        `after the grace period), ${pruned.repackedBlobs} blobs repacked`,
    );
  }
}

/** Which snapshots the policy (or the ids) picks, per group; nothing is removed yet. */
async function decide(
  ctx: CommandContext,
  repo: Repository,
  policy: RetentionPolicy,
): Promise<GroupResult[]> {
  if (ctx.positionals.length > 0) {
    const byId = new Map<string, SnapshotRef>();
    for (const ref of ctx.positionals) {
      const found = await findSnapshot(repo, ref);
      byId.set(found.id, found);
    }
    return groupSnapshots([...byId.values()]).map((g) => ({
      host: g.key.hostname,
      paths: g.key.paths,
      keep: [],
      remove: g.snapshots.map((ref) => ({ ref, reasons: [] })),
    }));
  }
  const refs = await listSnapshots(repo, snapshotFilter(ctx.values));
  const now = new Date();
  return groupSnapshots(refs).map((g) => ({
    host: g.key.hostname,
    paths: g.key.paths,
    ...applyPolicy(g.snapshots, policy, { now, timeZone }),
  }));
}

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'remove snapshots by a retention policy, or by id',
  usage:
    'offsite forget [--keep-{last,hourly,daily,weekly,monthly,yearly} N] [--keep-within DURATION] ' +
    '[--keep-tag TAG] [--host H] [--tag T] [--path P] [--dry-run] [--prune]\n' +
    '       offsite forget SNAPSHOT... [--dry-run] [--prune]',
  details:
    'Snapshots are grouped by host and paths; the policy applies to each group on its own,\n' +
    'newest first, as restic does. --keep-daily N keeps the newest snapshot of each of the\n' +
    'N newest days that have one (likewise hourly, weekly (ISO weeks), monthly, yearly;\n' +
    'N = -1 keeps all); while a count is not used up, the oldest snapshot is kept too.\n' +
    'Hours, days, weeks, months and years are calendar periods in the local time zone\n' +
    '(set TZ to choose another). --keep-within 1y2m3d4h keeps snapshots newer than that\n' +
    'before the newest snapshot of the group. A policy that keeps nothing is refused.\n' +
    'Only the snapshots are removed; --prune then frees the data no snapshot needs.\n' +
    'With --json, "removed" lists what was removed (nothing with --dry-run).',
  options: {
    ...REPO_OPTIONS,
    'keep-last': { type: 'string' },
    'keep-hourly': { type: 'string' },
    'keep-daily': { type: 'string' },
    'keep-weekly': { type: 'string' },
    'keep-monthly': { type: 'string' },
    'keep-yearly': { type: 'string' },
    'keep-within': { type: 'string' },
    'keep-tag': { type: 'string', multiple: true },
    host: { type: 'string' },
    tag: { type: 'string', multiple: true },
    path: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean', short: 'n' },
    prune: { type: 'boolean' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--keep-last N', 'keep the N newest snapshots'],
    ['--keep-hourly N', 'keep the newest snapshot of each of the N newest hours'],
    ['--keep-daily N', 'keep the newest snapshot of each of the N newest days'],
    ['--keep-weekly N', 'keep the newest snapshot of each of the N newest ISO weeks'],
    ['--keep-monthly N', 'keep the newest snapshot of each of the N newest months'],
    ['--keep-yearly N', 'keep the newest snapshot of each of the N newest years'],
    ['--keep-within DURATION', 'keep snapshots within DURATION (e.g. 1y2m3d4h) of the newest'],
    ['--keep-tag TAG', 'keep snapshots having this tag; repeatable'],
    ['--host NAME', 'only consider snapshots of this host'],
    ['--tag TAG', 'only consider snapshots with this tag; repeatable'],
    ['--path PATH', 'only consider snapshots of exactly these paths; repeatable'],
    ['-n, --dry-run', 'show what would be removed, remove nothing'],
    ['--prune', 'after removing snapshots, free the data no snapshot needs (as `prune`)'],
  ],
  async run(ctx) {
    const policy = policyFrom(ctx);
    const dryRun = ctx.values['dry-run'] === true;
    const byId = ctx.positionals.length > 0;
    if (byId) {
      const filters = ['host', 'tag', 'path'].filter((k) => ctx.values[k] !== undefined);
      if (Object.keys(policy).length > 0 || filters.length > 0) {
        throw new UsageError('give either snapshot ids or a --keep-* policy (with filters), not both');
      }
    } else {
      validatePolicy(policy); // before asking for the passphrase
    }
    const wantPrune = ctx.values.prune === true;
    const repo = await openRepository(ctx, { index: false, standaloneOnly: 'forget' });
    const groups = await decide(ctx, repo, policy);
    const doomed = groups.flatMap((g) => g.remove.map((d) => d.ref));
    const removed = dryRun ? [] : await removeSnapshots(repo, doomed);
    const pruned = wantPrune && removed.length > 0 ? await prune(repo, {}) : undefined;
    ctx.out.data({
      groups: groups.map((g) => ({
        host: g.host,
        paths: g.paths,
        keep: g.keep.map(({ ref, reasons }) => ({ id: ref.id, time: ref.snapshot.time, reasons })),
        remove: g.remove.map(({ ref }) => ({ id: ref.id, time: ref.snapshot.time })),
      })),
      removed,
      dryRun,
      ...(pruned
        ? {
            prune: {
              deletedPacks: pruned.plan.remove.length,
              deletedBytes: pruned.deletedBytes,
              condemnedPacks: pruned.plan.condemn.length + pruned.plan.repack.length,
              repackedBlobs: pruned.repackedBlobs,
            },
          }
        : {}),
    });
    if (ctx.out.json) return 0;
    printText(ctx, groups, { byId, dryRun, wantPrune, pruned });
    return 0;
  },
};

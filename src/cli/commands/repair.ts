import { type RepairIndexResult, repairIndex } from '../../repo/repair-index.ts';
import { type RepairSnapshotsResult, repairSnapshots } from '../../repo/repair-snapshots.ts';
import { shortId } from '../../repo/snapshot.ts';
import {
  type Command,
  type CommandContext,
  openRepository,
  REPO_OPTION_HELP,
  REPO_OPTIONS,
  UsageError,
} from '../command.ts';
import type { Output } from '../output.ts';

const OPTIONS_OF: Record<string, string[]> = {
  index: ['read-all-packs'],
  snapshots: ['read-data', 'forget', 'dry-run'],
};

function printIndex(out: Output, r: RepairIndexResult): void {
  out.line(`found ${r.packsFound} packs; indexed ${r.packsIndexed} packs with ${r.blobs} blobs`);
  for (const u of r.unreadable) out.line(`unreadable, left out: ${u.pack}: ${u.reason}`);
  for (const name of r.ignored) out.line(`not a pack, ignored: ${name}`);
  for (const d of r.damaged) {
    const blobs = d.blobs.length ? `; damaged blobs: ${d.blobs.join(', ')}` : '';
    out.line(`damaged, indexed for its good blobs: ${d.pack}: ${d.reason}${blobs}`);
  }
  out.line(
    `wrote ${r.written.length} index files (${r.written.map(shortId).join(', ') || '-'}), ` +
      `removed ${r.removed.length} old ones`,
  );
  if (r.unreadable.length || r.damaged.length)
    out.line('next: `offsite repair snapshots --read-data` rewrites the snapshots that used them');
}

function printSnapshots(out: Output, r: RepairSnapshotsResult, dryRun: boolean): void {
  for (const u of r.unreadable) out.line(`unreadable snapshot, left as it is: ${u.object}: ${u.message}`);
  for (const s of r.repaired) {
    if (s.lost) {
      out.line(
        `snapshot ${shortId(s.id)}: root tree is unreadable, nothing to keep (\`offsite forget\` removes it)`,
      );
      continue;
    }
    const into = s.newId ? ` → ${shortId(s.newId)}${s.forgotten ? ' (old one forgotten)' : ''}` : '';
    out.line(`snapshot ${shortId(s.id)}${into}:`);
    for (const p of s.emptied) out.line(`  directory emptied (its contents are unreadable): ${p}`);
    for (const p of s.removed) out.line(`  file removed (its data is damaged or missing): ${p}`);
  }
  const fixable = r.repaired.filter((s) => !s.lost).length;
  out.line(
    `${r.snapshots} snapshots checked, ${fixable} damaged` +
      (dryRun ? ' (dry run: nothing written)' : `, ${fixable} replaced, ${r.treesWritten} trees written`),
  );
}

async function run(ctx: CommandContext, action: string): Promise<number> {
  const flag = (name: string) => ctx.values[name] === true;
  const repo = await openRepository(ctx, { index: false, standaloneOnly: 'repair' });
  if (action === 'index') {
    const progress = ctx.out.stderrIsTTY && !ctx.out.json && !ctx.out.quiet;
    const result = await repairIndex(repo, {
      readAllPacks: flag('read-all-packs'),
      onPack: (done, total) => {
        if (progress) process.stderr.write(`\r\x1b[Kread ${done}/${total} packs`);
      },
    });
    if (progress) process.stderr.write('\r\x1b[K');
    ctx.out.data(result);
    printIndex(ctx.out, result);
    return 0;
  }
  const result = await repairSnapshots(repo, {
    readData: flag('read-data'),
    forget: flag('forget'),
    dryRun: flag('dry-run'),
  });
  ctx.out.data(result);
  printSnapshots(ctx.out, result, flag('dry-run'));
  return 0;
}

export const repairCommand: Command = {
  name: 'repair',
  summary: 'rebuild the index from the packs, or rewrite snapshots around damaged data',
  usage: 'offsite repair index [--read-all-packs] | snapshots [--read-data] [--forget] [--dry-run]',
  details:
    'repair index: lists every pack, reads its header (with --read-all-packs the whole pack,\n' +
    'hash and blobs checked) and writes an index of every readable pack that replaces all\n' +
    'index files; packs whose header cannot be read are left out and listed.\n' +
    'repair snapshots: every snapshot that needs a missing or damaged blob is written anew\n' +
    'without it: a file with damaged data is removed, a directory whose tree is unreadable\n' +
    'becomes empty, and both are listed in the new snapshot (tag "repaired"). Snapshots\n' +
    'without damage are untouched. Run `repair index` first when index files were lost.\n' +
    'Exit code 0 when the repair ran, whatever damage it found.',
  options: {
    ...REPO_OPTIONS,
    'read-all-packs': { type: 'boolean' },
    'read-data': { type: 'boolean' },
    forget: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--read-all-packs', 'index: read whole packs, checking hashes and blobs, not only headers'],
    ['--read-data', 'snapshots: read every data blob; one that fails counts as missing'],
    ['--forget', 'snapshots: delete each damaged snapshot once its replacement is written'],
    ['--dry-run', 'snapshots: report what would change, write nothing'],
  ],
  async run(ctx) {
    const [action, ...extra] = ctx.positionals;
    if (!action || !(action in OPTIONS_OF) || extra.length > 0)
      throw new UsageError('give one of: index, snapshots');
    const allowed = new Set([...Object.keys(REPO_OPTIONS), ...OPTIONS_OF[action]!]);
    const misplaced = Object.keys(ctx.values).filter(
      (k) => k in repairCommand.options && !allowed.has(k) && ctx.values[k] !== undefined,
    );
    if (misplaced.length) throw new UsageError(`--${misplaced[0]} does not apply to repair ${action}`);
    return run(ctx, action);
  },
};

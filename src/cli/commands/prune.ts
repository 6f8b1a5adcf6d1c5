import { BadInputError } from '../../errors/index.ts';
import { prune } from '../../repo/prune.ts';
import { formatBytes, parseDuration } from '../../util/index.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, str } from '../command.ts';

function parseShare(text: string): number {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const value = match ? Number(match[1]) / 100 : Number.NaN;
  if (!(value >= 0 && value <= 1))
    throw new BadInputError('BAD_MAX_UNUSED', `--max-unused takes a percentage like 5%, not "${text}"`);
  return value;
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'remove data no snapshot needs, without stopping backups',
  usage: 'offsite prune [--max-unused 5%] [--grace 1h] [--clock-skew 5m] [--dry-run]',
  details:
    'Two phases in time: a run condemns packs no snapshot needs and repacks partly used\n' +
    'ones; a later run deletes condemned packs once the grace period has passed and no\n' +
    'backup that started before the condemnation is still running. Backups may run at\n' +
    'the same time; only one prune runs at once.',
  options: {
    ...REPO_OPTIONS,
    'max-unused': { type: 'string' },
    grace: { type: 'string' },
    'clock-skew': { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--max-unused PERCENT', 'repack packs with more unused space than this (default 5%)'],
    ['--grace DURATION', 'how long condemned packs are kept before deletion (default 1h)'],
    [
      '--clock-skew DURATION',
      'allowance for clocks of backup machines disagreeing (default 5m; 0 on one host)',
    ],
    ['-n, --dry-run', 'show what would be done, change nothing'],
  ],
  async run(ctx) {
    const repo = await openRepository(ctx, { index: false, standaloneOnly: 'prune' });
    const maxUnused = str(ctx.values, 'max-unused');
    const grace = str(ctx.values, 'grace');
    const skew = str(ctx.values, 'clock-skew');
    const result = await prune(repo, {
      ...(maxUnused ? { maxUnused: parseShare(maxUnused) } : {}),
      ...(grace ? { graceMs: parseDuration(grace) } : {}),
      ...(skew ? { skewMs: parseDuration(skew) } : {}),
      dryRun: ctx.values['dry-run'] === true,
    });
    ctx.out.data(result);
    const { plan } = result;
    const verb = result.dryRun ? 'would' : 'did';
    ctx.out.line(
      `${result.snapshots} snapshots, ${result.packs} packs, ${result.liveSessions} backups running`,
    );
    ctx.out.line(
      `condemned: ${plan.condemn.length} unused packs; repacked: ${plan.repack.length} partly used packs (${result.repackedBlobs} blobs)`,
    );
    ctx.out.line(
      `deleted: ${plan.remove.length} packs (${formatBytes(result.deletedBytes)}); revived: ${plan.revive.length}; waiting: ${plan.blocked.length}`,
    );
    if (result.dryRun)
      ctx.out.line(`dry run: nothing was changed (the lines above say what prune ${verb} do)`);
    else if (plan.condemn.length + plan.repack.length > 0) {
      ctx.out.line(
        'condemned packs are deleted by a later prune, after the grace period, once no older backup runs',
      );
    }
    return 0;
  },
};

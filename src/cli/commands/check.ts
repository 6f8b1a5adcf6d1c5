import { BadInputError } from '../../errors/index.ts';
import type { CheckResult, ProblemKind } from '../../repo/check.ts';
import { parseSubset } from '../../repo/check-subset.ts';
import { checkRepository } from '../../repo/index.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, str } from '../command.ts';

/** What to run next, from the kinds of problem found. */
function hints(result: CheckResult): string[] {
  const kinds = new Set(result.problems.map((p) => p.kind));
  const any = (list: ProblemKind[]) => list.some((k) => kinds.has(k));
  const out: string[] = [];
  if (any(['corrupt-index', 'missing-pack', 'pack-size', 'header-mismatch']))
    out.push('hint: `offsite repair index` rebuilds the index from the packs in storage');
  if (any(['missing-blob', 'corrupt-tree', 'hash-mismatch', 'blob-mismatch', 'unreadable-pack']))
    out.push(
      'hint: `offsite repair snapshots --read-data` rewrites snapshots without what is damaged or missing',
    );
  return out;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify the repository: structure, and with --read-data every byte',
  usage: 'offsite check [--read-data | --read-data-subset P% | n/m]',
  details:
    'Every problem found is listed with the name of the damaged or missing object; exit code 1 if any.\n' +
    'Notes (packs pending deletion by prune) are not problems.\n' +
    '--read-data-subset 1/m … m/m, run one after another, together read every pack once.',
  options: { ...REPO_OPTIONS, 'read-data': { type: 'boolean' }, 'read-data-subset': { type: 'string' } },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--read-data', 'also read, hash and authenticate every pack and blob'],
    ['--read-data-subset S', 'read only some packs: P% at random, or group n of m (by pack id)'],
  ],
  async run(ctx) {
    const subsetText = str(ctx.values, 'read-data-subset');
    if (subsetText !== undefined && ctx.values['read-data'] === true) {
      throw new BadInputError('BAD_SUBSET', '--read-data and --read-data-subset cannot be used together', {
        hint: '--read-data reads every pack; --read-data-subset reads some of them',
      });
    }
    // Parsed before the repository is opened: a typo fails at once, without a passphrase.
    const subset = subsetText === undefined ? undefined : parseSubset(subsetText);
    const readData = ctx.values['read-data'] === true || subset !== undefined;
    const repo = await openRepository(ctx, { index: false });
    const progress = ctx.out.stderrIsTTY && !ctx.out.json && !ctx.out.quiet;
    const result = await checkRepository(repo, {
      readData,
      readDataSubset: subset,
      onPack: (done, total) => {
        if (progress) process.stderr.write(`\r\x1b[Kread ${done}/${total} packs`);
      },
    });
    if (progress && readData) process.stderr.write('\r\x1b[K');
    ctx.out.data(result);
    for (const p of result.problems) ctx.out.line(`error: ${p.object}: ${p.message}`);
    for (const n of result.notes) ctx.out.line(`note: ${n.object}: ${n.message}`);
    ctx.out.line(
      `checked ${result.snapshots} snapshots, ${result.trees} trees, ${result.packs} packs` +
        (readData
          ? `; read ${result.packsRead} packs${result.subset ? ` (subset ${result.subset}: ${result.packsSelected} selected)` : ''}, ${result.blobsRead} blobs`
          : ''),
    );
    const count = result.problems.length;
    ctx.out.line(count ? `${count} problem${count === 1 ? '' : 's'} found` : 'no problems found');
    if (result.problems.length) for (const hint of hints(result)) ctx.out.line(hint);
    return result.problems.length ? 1 : 0;
  },
};

import { diffTrees, findSnapshot, shortId } from '../../repo/index.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, UsageError } from '../command.ts';
import { formatBytes } from '../output.ts';

const MARK = { added: '+', removed: '-', modified: 'M', metadata: 'U' } as const;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'show what changed between two snapshots',
  usage: 'offsite diff SNAPSHOT-A SNAPSHOT-B',
  details: 'Marks: + added, - removed, M contents changed, U metadata (mode, owner, time) changed.',
  options: { ...REPO_OPTIONS },
  optionHelp: [...REPO_OPTION_HELP],
  async run(ctx) {
    const [a, b] = ctx.positionals;
    if (!a || !b || ctx.positionals.length !== 2) throw new UsageError('give two snapshots');
    const repo = await openRepository(ctx);
    const left = await findSnapshot(repo, a);
    const right = await findSnapshot(repo, b);
    const result = await diffTrees(
      repo,
      Buffer.from(left.snapshot.tree, 'hex'),
      Buffer.from(right.snapshot.tree, 'hex'),
    );
    ctx.out.data({ from: left.id, to: right.id, ...result });
    ctx.out.line(`comparing snapshot ${shortId(left.id)} to ${shortId(right.id)}:`);
    for (const change of result.changes)
      ctx.out.line(`${MARK[change.kind]}    ${change.path}${change.type === 'dir' ? '/' : ''}`);
    const count = (kind: keyof typeof MARK) => result.changes.filter((c) => c.kind === kind).length;
    ctx.out.line(
      `${count('added')} added, ${count('removed')} removed, ${count('modified')} modified, ${count('metadata')} metadata changed; ` +
        `${formatBytes(result.bytesAdded)} added, ${formatBytes(result.bytesRemoved)} removed`,
    );
    return 0;
  },
};

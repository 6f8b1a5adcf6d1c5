import { checkRepository } from '../../repo/index.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS } from '../command.ts';

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify the repository: structure, and with --read-data every byte',
  usage: 'offsite check [--read-data]',
  details:
    'Every problem found is listed with the name of the damaged or missing object; exit code 1 if any.',
  options: { ...REPO_OPTIONS, 'read-data': { type: 'boolean' } },
  optionHelp: [...REPO_OPTION_HELP, ['--read-data', 'also read, hash and authenticate every pack and blob']],
  async run(ctx) {
    const repo = await openRepository(ctx, { index: false });
    const readData = ctx.values['read-data'] === true;
    const result = await checkRepository(repo, {
      readData,
      onPack: (done, total) => {
        if (ctx.out.stderrIsTTY && !ctx.out.json) process.stderr.write(`\r\x1b[Kread ${done}/${total} packs`);
      },
    });
    if (ctx.out.stderrIsTTY && !ctx.out.json && readData) process.stderr.write('\r\x1b[K');
    ctx.out.data(result);
    for (const p of result.problems) ctx.out.line(`error: ${p.object}: ${p.message}`);
    ctx.out.line(
      `checked ${result.snapshots} snapshots, ${result.trees} trees, ${result.packs} packs` +
        (readData ? `; read ${result.packsRead} packs, ${result.blobsRead} blobs` : ''),
    );
    ctx.out.line(result.problems.length ? `${result.problems.length} problems found` : 'no problems found');
    return result.problems.length ? 1 : 0;
  },
};

import { once } from 'node:events';
import { fileContent, findSnapshotFile } from '../../agent/sources/index.ts';
import { errnoCode } from '../../errors/index.ts';
import { findSnapshot } from '../../repo/index.ts';
import {
  type Command,
  openRepository,
  REPO_OPTION_HELP,
  REPO_OPTIONS,
  snapshotFilter,
  UsageError,
} from '../command.ts';

async function drainedOrClosed(out: NodeJS.WriteStream): Promise<void> {
  // The listener that loses the race is removed, so a long dump gathers none.
  const done = new AbortController();
  try {
    await Promise.race([
      once(out, 'drain', { signal: done.signal }),
      once(out, 'close', { signal: done.signal }),
    ]);
  } finally {
    done.abort();
  }
}

export const dumpCommand: Command = {
  name: 'dump',
  summary: "write one file of a snapshot to stdout (e.g. a stream's dump)",
  usage: 'offsite dump SNAPSHOT|latest PATH > FILE',
  details:
    'Every blob is authenticated and checked before it is written; a damaged one stops the\n' +
    'output with exit code 1. E.g. `offsite dump latest /db.pgdump | pg_restore -d DB`.',
  options: { ...REPO_OPTIONS, host: { type: 'string' }, tag: { type: 'string', multiple: true } },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--host NAME', 'with "latest": the latest snapshot of this host'],
    ['--tag TAG', 'with "latest": the latest snapshot with this tag'],
  ],
  async run(ctx) {
    const [ref, path] = ctx.positionals;
    if (!ref || !path || ctx.positionals.length > 2)
      throw new UsageError('give a SNAPSHOT (an id or "latest") and the PATH of a file in it');
    const repo = await openRepository(ctx);
    const snapshot = await findSnapshot(repo, ref, snapshotFilter(ctx.values));
    const file = await findSnapshotFile(repo, snapshot, path);
    const out = process.stdout;
    let failure: Error | undefined;
    out.on('error', (err) => {
      failure = err;
    });
    for await (const chunk of fileContent(repo, file.node)) {
      if (failure) break;
      if (!out.write(chunk)) await drainedOrClosed(out);
    }
    // A reader that stops early (`| head`) is not an error of ours.
    if (failure && errnoCode(failure) !== 'EPIPE') throw failure;
    return 0;
  },
};

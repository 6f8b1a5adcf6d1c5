// `npm start`: the main job on embedded defaults, so a newcomer sees Offsite work end to
// end without choosing anything. Creates ./offsite-data (or $OFFSITE_DATA) with a
// repository and a generated passphrase file (mode 0600), backs up this project's
// sources, verifies the repository and restores the snapshot next to it.
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { main } from '../src/cli/main.ts';
import { generatePassphrase } from '../src/cli/passphrase.ts';

const project = resolve(import.meta.dirname, '..');
const data = resolve(process.env.OFFSITE_DATA ?? join(project, 'offsite-data'));
const repo = join(data, 'repo');
const passFile = join(data, 'passphrase');
const env: NodeJS.ProcessEnv = { ...process.env, OFFSITE_REPOSITORY: repo, OFFSITE_PASSWORD_FILE: passFile };
delete env.OFFSITE_PASSWORD;

async function step(title: string, args: string[]): Promise<void> {
  process.stdout.write(`\n$ offsite ${args.join(' ')}    # ${title}\n`);
  const code = await main(args, env);
  if (code !== 0) {
    process.stderr.write(`step failed with exit code ${code}\n`);
    process.exit(code);
  }
}

await mkdir(data, { recursive: true, mode: 0o700 });
if (!existsSync(passFile)) {
  await writeFile(passFile, `${generatePassphrase()}\n`, { mode: 0o600 });
  await chmod(passFile, 0o600);
}
if (!existsSync(join(repo, 'config'))) await step('create the repository', ['init']);
await step('back up the project sources', [
  'backup',
  join(project, 'src'),
  join(project, 'docs'),
  join(project, 'README.md'),
]);
await step('list recovery points', ['snapshots']);
await step('verify every byte', ['check', '--read-data']);
const target = join(data, 'restored');
await step('restore the latest snapshot', ['restore', 'latest', '--target', target]);
process.stdout.write(
  `\nDone. Repository: ${repo}\nPassphrase file: ${passFile} (keep it safe; without it nothing can be restored)\n` +
    `Restored copy: ${target}${project}\n` +
    `Try: OFFSITE_REPOSITORY=${repo} OFFSITE_PASSWORD_FILE=${passFile} npx offsite ls latest\n`,
);

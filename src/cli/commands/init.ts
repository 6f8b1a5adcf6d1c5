import { publishRestoreAccess } from '../../agent/other-server.ts';
import { isOffsiteError } from '../../errors/index.ts';
import { Repository } from '../../repo/index.ts';
import { ensureDir } from '../../storage/index.ts';
import { type Command, REPO_OPTION_HELP, REPO_OPTIONS, resolveTarget, str, targetStore } from '../command.ts';
import { generatePassphrase, readNewPassphrase } from '../passphrase.ts';
import { LOST_PASSPHRASE_NOTICE } from './agent/passphrase.ts';

export const init: Command = {
  name: 'init',
  summary: 'create a new repository',
  usage: 'offsite init [--repo LOCATION] [--generate-passphrase]',
  details:
    'The passphrase encrypts everything and never leaves this machine. If it is lost, the\n' +
    'backups cannot be read by anyone, including you: store it somewhere safe.\n' +
    'Without --repo on a machine registered with a vault, the repository is created in the vault;\n' +
    'the vault never receives the passphrase, so it cannot recover a lost one either.',
  options: { ...REPO_OPTIONS, 'generate-passphrase': { type: 'boolean' } },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--generate-passphrase', 'make a strong random passphrase and print it once'],
  ],
  async run(ctx) {
    const target = await resolveTarget(ctx);
    const location = target.kind === 'repo' ? target.location : `vault ${target.agent.info.vault.name}`;
    const generated = ctx.values['generate-passphrase'] === true;
    if (target.kind === 'vault') ctx.out.note(`${LOST_PASSPHRASE_NOTICE}\n`);
    const passphrase = generated
      ? generatePassphrase()
      : await readNewPassphrase({ passwordFile: str(ctx.values, 'password-file'), env: ctx.env });
    if (target.kind === 'repo' && (!/^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith('file:'))) {
      await ensureDir(location.replace(/^file:\/\//, ''));
    }
    const repo = await Repository.init(targetStore(target), passphrase);
    // Restore elsewhere needs it; any later command publishes it if this one could not.
    if (target.kind === 'vault') {
      await publishRestoreAccess(repo).catch((err: unknown) => {
        if (!isOffsiteError(err)) throw err;
        ctx.out.note(
          `warning: the restore access was not stored yet (${err.message}); the next command retries`,
        );
      });
    }
    ctx.out.data({ id: repo.config.id, location, ...(generated ? { passphrase } : {}) });
    ctx.out.line(`created repository ${repo.config.id.slice(0, 10)} at ${location}`);
    if (generated) {
      ctx.out.line('');
      ctx.out.line(`passphrase: ${passphrase}`);
      ctx.out.line('');
      ctx.out.line('This is the only time it is shown. Store it safely: without it the backups cannot be');
      ctx.out.line('restored, and nobody can recover it for you.');
    }
    return 0;
  },
};

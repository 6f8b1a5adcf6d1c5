import { BadInputError } from '../../errors/index.ts';
import { addKeySlot, checkPassphraseStrength, listKeySlots, removeKeySlot } from '../../repo/index.ts';
import { generateRecoveryKey } from '../../repo/keyring.ts';
import { type Command, openRepository, REPO_OPTION_HELP, REPO_OPTIONS, str, UsageError } from '../command.ts';
import { table } from '../output.ts';
import { generatePassphrase, readNewPassphrase } from '../passphrase.ts';

async function newPassphrase(
  ctx: Parameters<Command['run']>[0],
): Promise<{ passphrase: string; generated: boolean }> {
  if (ctx.values.recovery) return { passphrase: generateRecoveryKey(), generated: true };
  if (ctx.values.generate) return { passphrase: generatePassphrase(), generated: true };
  const file = str(ctx.values, 'new-password-file');
  if (!file && !process.stdin.isTTY) {
    throw new BadInputError('NO_PASSPHRASE', 'no new passphrase given', {
      hint: 'use --new-password-file FILE or --generate',
    });
  }
  const passphrase = await readNewPassphrase({ passwordFile: file, env: {} }, 'New passphrase: ');
  checkPassphraseStrength(passphrase);
  return { passphrase, generated: false };
}

export const keyCommand: Command = {
  name: 'key',
  summary: 'manage passphrases (key slots): list, add, remove, passwd',
  usage:
    'offsite key list | add [--new-password-file F | --generate | --recovery] | remove ID | passwd [--new-password-file F | --generate]',
  details:
    'passwd adds a slot for the new passphrase, then removes the one used to open the repository.\n' +
    'No data is re-encrypted. add --recovery makes a recovery key (8 groups of 4 characters) to\n' +
    'print and keep offline: it opens the repository like a passphrase if the passphrase is lost.',
  options: {
    ...REPO_OPTIONS,
    'new-password-file': { type: 'string' },
    generate: { type: 'boolean' },
    recovery: { type: 'boolean' },
    label: { type: 'string' },
  },
  optionHelp: [
    ...REPO_OPTION_HELP,
    ['--new-password-file FILE', 'the new passphrase (add, passwd)'],
    ['--generate', 'generate the new passphrase and print it once'],
    ['--recovery', 'add a recovery key, printed once (label "recovery")'],
    ['--label TEXT', 'a label for the new key (e.g. "recovery")'],
  ],
  async run(ctx) {
    const [action, id] = ctx.positionals;
    const repo = await openRepository(ctx, { index: false });
    if (action === 'list') {
      const slots = await listKeySlots(repo.store);
      ctx.out.data(
        slots.map((s) => ({ id: s.id, current: s.id === repo.slot.id, ...s.file, wrapped: undefined })),
      );
      const rows = [[' ', 'ID', 'Label', 'User', 'Host', 'Created', 'KDF']];
      for (const s of slots) {
        rows.push([
          s.id === repo.slot.id ? '*' : ' ',
          s.id.slice(0, 8),
          s.file.label,
          s.file.username,
          s.file.hostname,
          s.file.created.slice(0, 19).replace('T', ' '),
          s.file.kdf.algorithm,
        ]);
      }
      ctx.out.line(table(rows));
      return 0;
    }
    if (action === 'add' || action === 'passwd') {
      const { passphrase, generated } = await newPassphrase(ctx);
      const slot = await addKeySlot(repo.store, repo.keys.master, passphrase, {
        label: str(ctx.values, 'label') ?? (ctx.values.recovery ? 'recovery' : 'passphrase'),
      });
      if (action === 'passwd') await removeKeySlot(repo.store, repo.slot.id, slot);
      ctx.out.data({
        added: slot.id,
        removed: action === 'passwd' ? repo.slot.id : undefined,
        ...(generated ? { passphrase } : {}),
      });
      ctx.out.line(
        `added key ${slot.id.slice(0, 8)}${action === 'passwd' ? `, removed key ${repo.slot.id.slice(0, 8)}` : ''}`,
      );
      if (generated) {
        const what = ctx.values.recovery ? 'recovery key' : 'passphrase';
        ctx.out.line(
          `${what}: ${passphrase}\nThis is the only time it is shown. Store it safely, away from this machine.`,
        );
      }
      return 0;
    }
    if (action === 'remove') {
      if (!id) throw new UsageError('give the ID of the key to remove');
      await removeKeySlot(repo.store, id, repo.slot);
      ctx.out.data({ removed: id });
      ctx.out.line(`removed key ${id}`);
      return 0;
    }
    throw new UsageError('give one of: list, add, remove, passwd');
  },
};

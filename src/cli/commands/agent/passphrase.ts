import { join } from 'node:path';
import { agentDir } from '../../../agent/index.ts';
import { publishRestoreAccess } from '../../../agent/other-server.ts';
import { BadInputError, IntegrityError } from '../../../errors/index.ts';
import { addKeySlot, checkPassphraseStrength, type Repository, removeKeySlot } from '../../../repo/index.ts';
import { unlock } from '../../../repo/keyring.ts';
import { type CommandContext, openTarget, str, UsageError } from '../../command.ts';
import { generatePassphrase, readNewPassphrase } from '../../passphrase.ts';
import type { AgentAction } from './action.ts';

// `offsite agent passphrase change`: a new key slot for the new passphrase, checked, then
// the old slot retired (the vault keeps a copy out of the agent's reach). The master key
// stays, so no data is rewritten and the restore access (derived from the master key)
// stays valid.

/** Said before a vault repository's passphrase is first set, and again when it changes. */
export const LOST_PASSPHRASE_NOTICE =
  "The passphrase encrypts this server's backups on this machine, before they reach the vault.\n" +
  'The vault never receives it: if it is lost, neither the vault nor anyone else can recover\n' +
  'it, and the backups cannot be restored. Store it safely, away from this server (it is also\n' +
  'what restores this server on another machine).';

async function newPassphrase(ctx: CommandContext): Promise<{ passphrase: string; generated: boolean }> {
  if (ctx.values.generate === true) return { passphrase: generatePassphrase(), generated: true };
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

/** The new slot must open the repository to the same key before the old one goes. */
async function addCheckedSlot(repo: Repository, passphrase: string) {
  const slot = await addKeySlot(repo.store, repo.keys.master, passphrase, { label: 'passphrase' });
  const { master } = await unlock(repo.store, passphrase);
  if (!master.equals(repo.keys.master)) {
    throw new IntegrityError(
      'KEY_CHECK_FAILED',
      'the new passphrase opens another key; the old one was kept',
      {
        hint: 'run `offsite key list` and remove the new slot',
      },
    );
  }
  return slot;
}

async function change(ctx: CommandContext): Promise<number> {
  if (str(ctx.values, 'repo') ?? ctx.env.OFFSITE_REPOSITORY) {
    throw new UsageError(
      "agent passphrase change works on this agent's vault repository; for another use `offsite key passwd`",
    );
  }
  const { repo } = await openTarget(ctx, { index: false });
  const { passphrase, generated } = await newPassphrase(ctx);
  const slot = await addCheckedSlot(repo, passphrase);
  await removeKeySlot(repo.store, repo.slot.id, slot);
  const access = await publishRestoreAccess(repo);
  ctx.out.data({
    added: slot.id,
    removed: repo.slot.id,
    restoreAccess: access,
    ...(generated ? { passphrase } : {}),
  });
  ctx.out.line(
    `passphrase changed: key ${slot.id.slice(0, 8)} added, key ${repo.slot.id.slice(0, 8)} retired; no data was rewritten`,
  );
  if (generated) ctx.out.line(`\nnew passphrase: ${passphrase}\nThis is the only time it is shown.`);
  ctx.out.line('');
  ctx.out.line(LOST_PASSPHRASE_NOTICE);
  ctx.out.line(
    `Update the passphrase file the agent daemon reads (default ${join(agentDir(ctx.env), 'passphrase')}), or its next backup fails.`,
  );
  return 0;
}

export const PASSPHRASE_ACTIONS: AgentAction[] = [
  {
    name: 'passphrase',
    usage: 'passphrase change [--generate | --new-password-file FILE]',
    summary:
      "change the vault repository's passphrase: rewraps the key, no data is rewritten; the old one stops working",
    options: {
      'password-file': { type: 'string' },
      'new-password-file': { type: 'string' },
      generate: { type: 'boolean' },
    },
    optionHelp: [
      ['--password-file FILE', 'passphrase change: the current passphrase (also $OFFSITE_PASSWORD_FILE)'],
      ['--new-password-file FILE', 'passphrase change: the new passphrase'],
      ['--generate', 'passphrase change: make a strong new passphrase and print it once'],
    ],
    run: (ctx, args) => {
      const [what, extra] = args;
      if (what !== 'change' || extra !== undefined) throw new UsageError('give: passphrase change');
      return change(ctx);
    },
  },
];

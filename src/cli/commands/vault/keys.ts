import { UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// Key slots a passphrase change retired: kept by the vault for its soft-delete days, so an
// owner can put one back when the change was not theirs (an intruder on the server).

interface RetiredKeys {
  server: string;
  keys: { id: string; retiredAt: string; expiresAt: string }[];
}

const retiredKeys: VaultAction = {
  name: 'retired-keys',
  usage: 'retired-keys NAME SERVER [--restore KEY-ID]',
  summary: "list a server's retired key slots, or put one back (owner) so its passphrase works again",
  options: { restore: { type: 'string' } },
  optionHelp: [['--restore KEY-ID', 'retired-keys: put this retired key slot back into the repository']],
  async run(ctx, client, args) {
    if (args.length !== 2) throw new UsageError('retired-keys needs a vault NAME and a SERVER');
    const [name, server] = args as [string, string];
    const base = vaultPath(name, `/servers/${encodeURIComponent(server)}/retired-keys`);
    const restore = ctx.values.restore;
    if (typeof restore === 'string') {
      const done = await (await client()).call('POST', `${base}/${encodeURIComponent(restore)}/restore`);
      ctx.out.data(done);
      ctx.out.line(
        `key slot ${restore.slice(0, 8)} is back in ${server}'s repository: its passphrase opens it again`,
      );
      return 0;
    }
    const listed = (await (await client()).call('GET', base)) as RetiredKeys;
    ctx.out.data(listed);
    if (listed.keys.length === 0) {
      ctx.out.line(`${listed.server} has no retired key slots`);
      return 0;
    }
    const rows = [['ID', 'Retired', 'Deleted after']];
    for (const k of listed.keys) rows.push([k.id, k.retiredAt, k.expiresAt]);
    ctx.out.line(table(rows));
    return 0;
  },
};

export const KEYS_ACTIONS: VaultAction[] = [retiredKeys];

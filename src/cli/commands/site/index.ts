import type { ServerClient } from '../../../server/index.ts';
import { writeAtomic } from '../../../util/index.ts';
import { actionsHelp, findAction, mergedOptionHelp, mergedOptions } from '../../actions.ts';
import { type Command, str, UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { adminClient } from '../vault/client.ts';
import { type AdminAction, positionals, sitePath } from './action.ts';

// `offsite site ACTION`: the sites (data centres) of disaster recovery, and the
// credentials files their site agents register with.

interface Site {
  name: string;
  vault: string;
  state: string;
  createdAt: string;
  lastHeartbeatAt: string | null;
  downSince: string | null;
}

/** Without --vault: the server's one vault, if it has exactly one. */
async function onlyVault(api: ServerClient): Promise<string> {
  const { vaults } = (await api.call('GET', '/v1/vaults')) as { vaults: { name: string }[] };
  if (vaults.length !== 1)
    throw new UsageError('create needs --vault VAULT (the server has several vaults, or none)');
  return vaults[0]!.name;
}

const ACTIONS: AdminAction[] = [
  {
    name: 'create',
    usage: 'create NAME [--vault VAULT]',
    summary: 'create a site in a vault (its alerts go to that vault)',
    options: { vault: { type: 'string' } },
    optionHelp: [['--vault VAULT', "the vault the site belongs to (default: the server's only vault)"]],
    async run(ctx, client, args) {
      const [name] = positionals(args, 1, `offsite site ${this.usage}`);
      const api = await client();
      const vault = str(ctx.values, 'vault') ?? (await onlyVault(api));
      const site = (await api.call('POST', '/v1/sites', { name, vault })) as Site;
      ctx.out.data(site);
      ctx.out.line(`created site ${site.name} in vault ${site.vault}`);
      return 0;
    },
  },
  {
    name: 'list',
    usage: 'list',
    summary: 'list the sites and whether each is up',
    async run(ctx, client, args) {
      positionals(args, 0, `offsite site ${this.usage}`);
      const { sites } = (await (await client()).call('GET', '/v1/sites')) as { sites: Site[] };
      ctx.out.data({ sites });
      if (sites.length === 0) ctx.out.line('no sites');
      else {
        const rows = sites.map((s) => [s.name, s.vault, s.state, s.lastHeartbeatAt ?? 'never']);
        ctx.out.line(table([['NAME', 'VAULT', 'STATE', 'LAST HEARTBEAT'], ...rows]));
      }
      return 0;
    },
  },
  {
    name: 'delete',
    usage: 'delete NAME',
    summary: 'delete a site no workload uses (its site agent is refused from then on)',
    async run(ctx, client, args) {
      const [name] = positionals(args, 1, `offsite site ${this.usage}`);
      const site = (await (await client()).call('DELETE', sitePath(name!))) as Site;
      ctx.out.data(site);
      ctx.out.line(`deleted site ${site.name}`);
      return 0;
    },
  },
  {
    name: 'credentials',
    usage: 'credentials NAME --out FILE',
    summary: "download a site credentials file for the site's agent (48 h, single use)",
    options: { out: { type: 'string' } },
    optionHelp: [['--out FILE', 'where to write the credentials file (mode 0600)']],
    async run(ctx, client, args) {
      const [name] = positionals(args, 1, `offsite site ${this.usage}`);
      const out = str(ctx.values, 'out');
      if (!out) throw new UsageError('credentials needs --out FILE');
      const file = (await (await client()).call('POST', sitePath(name!, '/credentials'))) as {
        expiresAt: string;
      };
      await writeAtomic(out, `${JSON.stringify(file, null, 2)}\n`, 0o600);
      ctx.out.data({ file: out, expiresAt: file.expiresAt });
      ctx.out.line(`wrote the site credentials file ${out} (valid until ${file.expiresAt}, single use)`);
      ctx.out.line(`on the site's machine: offsite site-agent register --credentials ${out}`);
      return 0;
    },
  },
];

export const siteCommand: Command = {
  name: 'site',
  summary: 'disaster recovery sites (data centres) and their site agent credentials',
  usage: 'offsite site ACTION [NAME] [options]',
  details: [
    ...actionsHelp(ACTIONS),
    '',
    'Talks HTTPS to $OFFSITE_SERVER with the API token in $OFFSITE_TOKEN or --token-file,',
    'trusting only the CA certificate in $OFFSITE_CA_CERT.',
  ].join('\n'),
  options: mergedOptions('site', ACTIONS, { 'token-file': { type: 'string' } }),
  optionHelp: [
    ...mergedOptionHelp(ACTIONS),
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [name, ...args] = ctx.positionals;
    return findAction(ACTIONS, name).run(ctx, () => adminClient(ctx), args);
  },
};

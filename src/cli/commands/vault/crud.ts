import type { ServerClient } from '../../../server/index.ts';
import { parseBytes } from '../../../util/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import { formatBytes, formatDuration, table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// Creating, listing, showing, changing and deleting vaults.

/** Where the copy in the secondary region stands (GET /v1/vaults/:name). */
interface Replication {
  secondaryRegion: string;
  checkedAt: string | null;
  syncedAt: string | null;
  pendingObjects: number;
  pendingBytes: number;
  oldestPendingAgeSeconds: number | null;
  problems: string[];
  primaryUnreachableSince: string | null;
}

/** A vault as the API returns it. */
interface Vault {
  name: string;
  region: string;
  secondaryRegion: string | null;
  replication?: Replication | null;
  quotaBytes: number | null;
  softDeleteDays: number;
  immutable: boolean;
  createdAt: string;
  deletedAt: string | null;
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number`);
  return Number(text);
}

function describeReplication(r: Replication): string[] {
  const pending =
    r.pendingObjects === 0
      ? 'nothing pending'
      : `${r.pendingObjects} objects (${formatBytes(r.pendingBytes)}) not copied yet` +
        (r.oldestPendingAgeSeconds === null
          ? ''
          : `, oldest ${formatDuration(r.oldestPendingAgeSeconds * 1000)}`);
  return [
    `replication:      ${pending}`,
    `  last checked:   ${r.checkedAt ?? 'never'}`,
    `  in sync up to:  ${r.syncedAt ?? 'never'}`,
    ...(r.primaryUnreachableSince
      ? [
          `  primary region unreachable since ${r.primaryUnreachableSince}: reads are served from ${r.secondaryRegion}`,
        ]
      : []),
    ...r.problems.map((p) => `  problem: ${p}`),
  ];
}

function describe(v: Vault): string[] {
  return [
    `name:             ${v.name}`,
    `region:           ${v.region}`,
    `secondary region: ${v.secondaryRegion ?? 'none'}`,
    ...(v.replication ? describeReplication(v.replication) : []),
    `quota:            ${v.quotaBytes === null ? 'none' : formatBytes(v.quotaBytes)}`,
    `soft delete:      ${v.softDeleteDays} days`,
    `immutable:        ${v.immutable ? 'yes' : 'no'}`,
    `created:          ${v.createdAt}`,
    ...(v.deletedAt ? [`deleted:          ${v.deletedAt} (soft delete)`] : []),
  ];
}

async function createVault(ctx: CommandContext, client: ServerClient, name: string): Promise<number> {
  const region = str(ctx.values, 'region');
  if (!region) throw new UsageError('create needs --region R');
  const quota = str(ctx.values, 'quota');
  const days = str(ctx.values, 'soft-delete-days');
  const secondary = str(ctx.values, 'secondary-region');
  const vault = (await client.call('POST', '/v1/vaults', {
    name,
    region,
    ...(secondary === undefined ? {} : { secondaryRegion: secondary }),
    ...(quota === undefined ? {} : { quotaBytes: parseBytes(quota) }),
    ...(days === undefined ? {} : { softDeleteDays: wholeNumber(days, '--soft-delete-days') }),
  })) as Vault;
  ctx.out.data(vault);
  ctx.out.line(`created vault ${vault.name} in region ${vault.region}`);
  for (const line of describe(vault).slice(2)) ctx.out.line(`  ${line}`);
  return 0;
}

async function listVaults(ctx: CommandContext, client: ServerClient): Promise<number> {
  const { vaults } = (await client.call('GET', '/v1/vaults')) as { vaults: Vault[] };
  ctx.out.data({ vaults });
  if (vaults.length === 0) {
    ctx.out.line('no vaults');
    return 0;
  }
  const rows = vaults.map((v) => [
    v.name,
    v.region,
    v.quotaBytes === null ? '-' : formatBytes(v.quotaBytes),
    `${v.softDeleteDays}d`,
    v.createdAt,
  ]);
  ctx.out.line(table([['NAME', 'REGION', 'QUOTA', 'SOFT DELETE', 'CREATED'], ...rows]));
  return 0;
}

async function showVault(ctx: CommandContext, client: ServerClient, name: string): Promise<number> {
  const vault = (await client.call('GET', vaultPath(name))) as Vault;
  ctx.out.data(vault);
  for (const line of describe(vault)) ctx.out.line(line);
  return 0;
}

async function setVault(ctx: CommandContext, client: ServerClient, name: string): Promise<number> {
  const secondary = str(ctx.values, 'secondary-region');
  const none = ctx.values['no-secondary-region'] === true;
  if ((secondary === undefined) === !none) {
    throw new UsageError('set needs one of --secondary-region S or --no-secondary-region');
  }
  const vault = (await client.call('PATCH', vaultPath(name), {
    secondaryRegion: secondary ?? null,
  })) as Vault;
  ctx.out.data(vault);
  ctx.out.line(
    vault.secondaryRegion === null
      ? `vault ${vault.name} has no secondary region: replication stops (the old copy stays where it is)`
      : `vault ${vault.name} is replicated to region ${vault.secondaryRegion} from the next replication cycle`,
  );
  return 0;
}

async function deleteVault(ctx: CommandContext, client: ServerClient, name: string): Promise<number> {
  const vault = (await client.call('DELETE', vaultPath(name))) as Vault;
  ctx.out.data(vault);
  ctx.out.line(`vault ${vault.name} soft-deleted; it is kept for ${vault.softDeleteDays} days`);
  return 0;
}

function one(args: string[], action: string): string {
  const [name, extra] = args;
  if (!name) throw new UsageError(`${action} needs the vault NAME`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return name;
}

export const CRUD_ACTIONS: VaultAction[] = [
  {
    name: 'create',
    usage: 'create NAME --region R [--secondary-region S] [--quota SIZE] [--soft-delete-days N]',
    summary: 'create a vault in a region',
    options: {
      region: { type: 'string' },
      'secondary-region': { type: 'string' },
      quota: { type: 'string' },
      'soft-delete-days': { type: 'string' },
    },
    optionHelp: [
      ['--region R', 'region of a new vault (one the server was started with)'],
      ['--secondary-region S', 'another region that keeps a copy of the vault; reads fall back to it'],
      ['--quota SIZE', 'quota of a new vault, e.g. 500GiB (default: none)'],
      ['--soft-delete-days N', 'days a deleted vault or recovery point is kept (default 14)'],
    ],
    run: async (ctx, client, args) => createVault(ctx, await client(), one(args, 'create')),
  },
  {
    name: 'list',
    usage: 'list',
    summary: 'list the vaults',
    run: async (ctx, client, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return listVaults(ctx, await client());
    },
  },
  {
    name: 'show',
    usage: 'show NAME',
    summary: "show a vault's settings",
    run: async (ctx, client, args) => showVault(ctx, await client(), one(args, 'show')),
  },
  {
    name: 'set',
    usage: 'set NAME --secondary-region S | --no-secondary-region',
    summary: "change a vault's secondary region (owner)",
    options: { 'secondary-region': { type: 'string' }, 'no-secondary-region': { type: 'boolean' } },
    optionHelp: [['--no-secondary-region', 'stop replicating the vault to a secondary region']],
    run: async (ctx, client, args) => setVault(ctx, await client(), one(args, 'set')),
  },
  {
    name: 'delete',
    usage: 'delete NAME',
    summary: 'soft-delete a vault (kept for its soft-delete days)',
    run: async (ctx, client, args) => deleteVault(ctx, await client(), one(args, 'delete')),
  },
];

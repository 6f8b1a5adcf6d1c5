import { readFile } from 'node:fs/promises';
import { BadInputError, errnoCode } from '../../errors/index.ts';
import { ServerClient } from '../../server/index.ts';
import { parseBytes } from '../../util/index.ts';
import { type Command, type CommandContext, str, UsageError } from '../command.ts';
import { formatBytes, table } from '../output.ts';

/** A vault as the API returns it. */
interface Vault {
  name: string;
  region: string;
  quotaBytes: number | null;
  softDeleteDays: number;
  immutable: boolean;
  createdAt: string;
  deletedAt: string | null;
}

export const vaultCommand: Command = {
  name: 'vault',
  summary: 'create, list, show and delete vaults on a vault server',
  usage:
    'offsite vault create NAME --region R [--quota SIZE] [--soft-delete-days N] | list | show NAME | delete NAME',
  details:
    'Talks HTTPS to $OFFSITE_SERVER (e.g. https://vault.example:8443) with the API token in\n' +
    '$OFFSITE_TOKEN or --token-file, trusting only the CA certificate in $OFFSITE_CA_CERT\n' +
    "(the server's DATA_DIR/ca.pem). delete is a soft delete: the vault is kept for its\n" +
    'soft-delete days.',
  options: {
    region: { type: 'string' },
    quota: { type: 'string' },
    'soft-delete-days': { type: 'string' },
    'token-file': { type: 'string' },
  },
  optionHelp: [
    ['--region R', 'region of a new vault (one the server was started with)'],
    ['--quota SIZE', 'quota of a new vault, e.g. 500GiB (default: none)'],
    ['--soft-delete-days N', 'days a deleted vault or recovery point is kept (default 14)'],
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [action, name, ...extra] = ctx.positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (action === 'list') return listVaults(ctx, await clientFor(ctx));
    if (action !== 'create' && action !== 'show' && action !== 'delete') {
      throw new UsageError('give create, list, show or delete');
    }
    if (!name) throw new UsageError(`${action} needs the vault NAME`);
    const client = await clientFor(ctx);
    if (action === 'create') return createVault(ctx, client, name);
    if (action === 'show') return showVault(ctx, client, name);
    return deleteVault(ctx, client, name);
  },
};

async function readText(path: string, what: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the ${what} ${path} (${errnoCode(err) ?? 'error'})`,
      {
        hint,
      },
    );
  }
}

async function clientFor(ctx: CommandContext): Promise<ServerClient> {
  const server = ctx.env.OFFSITE_SERVER;
  if (!server) throw new UsageError('set OFFSITE_SERVER to the vault server URL (https://HOST:PORT)');
  const caFile = ctx.env.OFFSITE_CA_CERT;
  if (!caFile) throw new UsageError("set OFFSITE_CA_CERT to the vault server's ca.pem");
  const tokenFile = str(ctx.values, 'token-file');
  const token = tokenFile
    ? (await readText(tokenFile, 'token file', 'give a readable --token-file')).trim()
    : ctx.env.OFFSITE_TOKEN?.trim();
  if (!token) throw new UsageError('give the API token with --token-file F or $OFFSITE_TOKEN');
  const caPem = await readText(caFile, 'CA certificate', "OFFSITE_CA_CERT must name the server's ca.pem");
  return new ServerClient({ server, token, caPem });
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number`);
  return Number(text);
}

function describe(v: Vault): string[] {
  return [
    `name:             ${v.name}`,
    `region:           ${v.region}`,
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
  const vault = (await client.call('POST', '/v1/vaults', {
    name,
    region,
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
  const vault = (await client.call('GET', `/v1/vaults/${encodeURIComponent(name)}`)) as Vault;
  ctx.out.data(vault);
  for (const line of describe(vault)) ctx.out.line(line);
  return 0;
}

async function deleteVault(ctx: CommandContext, client: ServerClient, name: string): Promise<number> {
  const vault = (await client.call('DELETE', `/v1/vaults/${encodeURIComponent(name)}`)) as Vault;
  ctx.out.data(vault);
  ctx.out.line(`vault ${vault.name} soft-deleted; it is kept for ${vault.softDeleteDays} days`);
  return 0;
}

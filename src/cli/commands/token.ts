import { type Command, type CommandContext, str, UsageError } from '../command.ts';
import { table } from '../output.ts';
import { adminClient } from './vault/client.ts';

// `offsite token`: API tokens of a vault server. A new token's secret is printed once, on
// stdout and alone (`offsite token create ci --role reader > ci.token`); the server keeps
// only its hash, so it cannot be shown again.

interface Token {
  id: string;
  name: string;
  role: string;
  vault: string | null;
  user: string | null;
  state: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const ROLES = ['reader', 'operator', 'contributor', 'owner'];

function expiresDays(ctx: CommandContext): number | undefined {
  const text = str(ctx.values, 'expires-days');
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,3}$/.test(text) || Number(text) > 3650) {
    throw new UsageError('--expires-days must be a whole number from 1 to 3650');
  }
  return Number(text);
}

async function create(ctx: CommandContext, args: string[]): Promise<number> {
  const [name, extra] = args;
  if (!name) throw new UsageError('create needs the token NAME');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const role = str(ctx.values, 'role');
  if (!role || !ROLES.includes(role)) throw new UsageError(`create needs --role R (${ROLES.join(', ')})`);
  const vault = str(ctx.values, 'vault');
  const days = expiresDays(ctx);
  const body = { name, role, ...(vault ? { vault } : {}), ...(days ? { expiresDays: days } : {}) };
  const token = (await (await adminClient(ctx)).call('POST', '/v1/tokens', body)) as Token & {
    token: string;
  };
  ctx.out.data(token);
  ctx.out.line(token.token);
  const scope = token.vault ? `, vault ${token.vault} only` : '';
  const until = token.expiresAt ? `, expires ${token.expiresAt}` : '';
  ctx.out.note(`created token ${token.name} (${token.id}): ${token.role}${scope}${until}`);
  ctx.out.note('store the token now: it is not shown again');
  return 0;
}

async function list(ctx: CommandContext, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
  const { tokens } = (await (await adminClient(ctx)).call('GET', '/v1/tokens')) as { tokens: Token[] };
  ctx.out.data({ tokens });
  const rows = tokens.map((t) => [
    t.id,
    t.name,
    t.role,
    t.vault ?? '-',
    t.user ?? '-',
    t.state,
    t.expiresAt ?? 'never',
  ]);
  ctx.out.line(table([['ID', 'NAME', 'ROLE', 'VAULT', 'USER', 'STATE', 'EXPIRES'], ...rows]));
  return 0;
}

async function revoke(ctx: CommandContext, args: string[]): Promise<number> {
  const [id, extra] = args;
  if (!id) throw new UsageError('revoke needs the token ID (see `offsite token list`)');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const token = (await (
    await adminClient(ctx)
  ).call('DELETE', `/v1/tokens/${encodeURIComponent(id)}`)) as Token;
  ctx.out.data(token);
  ctx.out.line(`revoked token ${token.name} (${token.id})`);
  return 0;
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'manage the API tokens of a vault server',
  usage: 'offsite token create NAME --role R [--vault V] [--expires-days N] | token list | token revoke ID',
  details: [
    'create prints the new token alone on stdout (details on stderr); it is shown only once.',
    'A token gets at most the role of the token that creates it; a token limited to one',
    'vault creates tokens for that vault only. Talks to $OFFSITE_SERVER like `offsite vault`.',
  ].join('\n'),
  options: {
    role: { type: 'string' },
    vault: { type: 'string' },
    'expires-days': { type: 'string' },
    'token-file': { type: 'string' },
  },
  optionHelp: [
    ['--role R', 'reader, operator, contributor or owner'],
    ['--vault V', 'limit the token to vault V'],
    ['--expires-days N', 'the token stops working after N days (default: never)'],
    ['--token-file F', 'read the API token to act with from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [action, ...args] = ctx.positionals;
    if (action === 'create') return create(ctx, args);
    if (action === 'list') return list(ctx, args);
    if (action === 'revoke') return revoke(ctx, args);
    throw new UsageError('give one of: create, list, revoke');
  },
};

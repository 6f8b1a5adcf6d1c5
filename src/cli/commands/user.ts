import { BadInputError } from '../../errors/index.ts';
import { type Command, type CommandContext, str, UsageError } from '../command.ts';
import { table } from '../output.ts';
import { adminClient, readText } from './vault/client.ts';

// `offsite user`: the people who sign in to a vault server's console. Passwords are read
// from a file (never from the command line, where `ps` would show them) and are never
// printed.

interface User {
  id: string;
  name: string;
  role: string;
  createdAt: string;
}

const ROLES = ['reader', 'operator', 'contributor', 'owner'];

function role(ctx: CommandContext): string | undefined {
  const value = str(ctx.values, 'role');
  if (value !== undefined && !ROLES.includes(value))
    throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
  return value;
}

/** The file's text without its final line break. */
async function password(ctx: CommandContext): Promise<string | undefined> {
  const file = str(ctx.values, 'password-file');
  if (file === undefined) return undefined;
  const text = (await readText(file, 'password file', 'give a readable --password-file')).replace(
    /\r?\n$/,
    '',
  );
  if (text === '') throw new BadInputError('EMPTY_PASSWORD', `the password file ${file} is empty`);
  return text;
}

function oneName(args: string[], action: string): string {
  const [name, extra] = args;
  if (!name) throw new UsageError(`${action} needs the user NAME`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return name;
}

async function create(ctx: CommandContext, args: string[]): Promise<number> {
  const name = oneName(args, 'create');
  const r = role(ctx);
  const p = await password(ctx);
  if (!r || p === undefined) throw new UsageError('create needs --role R and --password-file F');
  const user = (await (
    await adminClient(ctx)
  ).call('POST', '/v1/users', { name, password: p, role: r })) as User;
  ctx.out.data(user);
  ctx.out.line(`created user ${user.name} with the ${user.role} role`);
  return 0;
}

async function list(ctx: CommandContext, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
  const { users } = (await (await adminClient(ctx)).call('GET', '/v1/users')) as { users: User[] };
  ctx.out.data({ users });
  if (users.length === 0) {
    ctx.out.line('no users');
    return 0;
  }
  ctx.out.line(table([['NAME', 'ROLE', 'CREATED'], ...users.map((u) => [u.name, u.role, u.createdAt])]));
  return 0;
}

async function set(ctx: CommandContext, args: string[]): Promise<number> {
  const name = oneName(args, 'set');
  const r = role(ctx);
  const p = await password(ctx);
  if (!r && p === undefined) throw new UsageError('set needs --role R, --password-file F, or both');
  const path = `/v1/users/${encodeURIComponent(name)}`;
  const changes = { ...(r ? { role: r } : {}), ...(p === undefined ? {} : { password: p }) };
  const user = (await (await adminClient(ctx)).call('PATCH', path, changes)) as User & {
    revokedTokens: number;
  };
  ctx.out.data(user);
  const what = [r ? `role ${user.role}` : '', p === undefined ? '' : 'new password']
    .filter(Boolean)
    .join(', ');
  ctx.out.line(`changed user ${user.name}: ${what}; ${user.revokedTokens} token(s) of the user revoked`);
  return 0;
}

export const userCommand: Command = {
  name: 'user',
  summary: 'manage the users of a vault server (console sign-in)',
  usage:
    'offsite user create NAME --role R --password-file F | user list | user set NAME [--role R] [--password-file F]',
  details: [
    'Roles, weakest first: reader, operator (acts, never destroys), contributor, owner.',
    'Nobody gives a role above their own. Changing a role or password signs the user out',
    'everywhere (their tokens are revoked). Talks to $OFFSITE_SERVER like `offsite vault`.',
  ].join('\n'),
  options: {
    role: { type: 'string' },
    'password-file': { type: 'string' },
    'token-file': { type: 'string' },
  },
  optionHelp: [
    ['--role R', 'reader, operator, contributor or owner'],
    ['--password-file F', 'read the password from F (at least 12 characters; one final newline is ignored)'],
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [action, ...args] = ctx.positionals;
    if (action === 'create') return create(ctx, args);
    if (action === 'list') return list(ctx, args);
    if (action === 'set') return set(ctx, args);
    throw new UsageError('give one of: create, list, set');
  },
};

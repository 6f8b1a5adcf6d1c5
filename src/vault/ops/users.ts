import { AuthError, BadInputError, NotFoundError } from '../../errors/index.ts';
import type { Catalog, Role, TokenRow, UserRow } from '../catalog/index.ts';
import { ROLES } from '../catalog/index.ts';
import { bad, fields, iso } from './input.ts';
import {
  checkPassword,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  verifyDecoy,
  verifyPassword,
} from './passwords.ts';
import { requireRoleCeiling, requireUnscoped } from './roles.ts';

// People who sign in to the console: a name, a role and a password (hashed, see
// ./passwords.ts). Signing in gives a session token; changing a user's role or password
// revokes every token of that user, so an old session never keeps an old role.

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const SESSION_MS = 12 * 3_600_000;

export interface NewUserInput {
  name: string;
  password: string;
  role: Role;
}

export interface UserChangesInput {
  role?: Role;
  password?: string;
}

export function parseRole(value: unknown, field = 'role'): Role {
  if (!ROLES.includes(value as Role)) throw bad(field, `one of ${[...ROLES].reverse().join(', ')}`);
  return value as Role;
}

function userName(value: unknown): string {
  if (typeof value !== 'string' || !USER_NAME.test(value)) {
    throw bad('name', '1 to 64 letters, digits and . _ @ -, starting with a letter or digit');
  }
  return value;
}

export function parseNewUser(body: unknown): NewUserInput {
  const input = fields(body, ['name', 'password', 'role'], '{name, password, role}');
  return { name: userName(input.name), password: checkPassword(input.password), role: parseRole(input.role) };
}

export function parseUserChanges(body: unknown): UserChangesInput {
  const input = fields(body, ['role', 'password'], '{role?, password?}');
  if (input.role === undefined && input.password === undefined) {
    throw new BadInputError('BAD_BODY', 'give a new role, a new password, or both');
  }
  return {
    ...(input.role === undefined ? {} : { role: parseRole(input.role) }),
    ...(input.password === undefined ? {} : { password: checkPassword(input.password) }),
  };
}

export function parseLogin(body: unknown): { name: string; password: string } {
  const input = fields(body, ['name', 'password'], '{name, password}');
  if (typeof input.name !== 'string' || input.name.length > 200) throw bad('name', 'the user name');
  if (typeof input.password !== 'string' || input.password.length > MAX_PASSWORD_LENGTH) {
    throw bad('password', 'the password');
  }
  return { name: input.name, password: input.password };
}

export function userJson(user: UserRow) {
  return { id: user.id, name: user.name, role: user.role, createdAt: iso(user.createdAt) };
}

export async function createUser(
  catalog: Catalog,
  caller: TokenRow,
  input: NewUserInput,
  now: number,
): Promise<UserRow> {
  requireUnscoped(caller, 'manage users');
  requireRoleCeiling(caller, input.role, 'create a user');
  const passwordHash = await hashPassword(input.password);
  return catalog.createUser({ name: input.name, passwordHash, role: input.role, createdAt: now });
}

async function userByName(catalog: Catalog, name: string): Promise<UserRow> {
  const user = await catalog.findUserByName(name);
  if (!user) throw new NotFoundError('USER_NOT_FOUND', `no user named "${name}"`);
  return user;
}

export async function listUsers(catalog: Catalog, caller: TokenRow): Promise<UserRow[]> {
  requireUnscoped(caller, 'manage users');
  return catalog.listUsers();
}

/** Returns the user as changed and how many of its tokens were revoked. */
export async function changeUser(
  catalog: Catalog,
  caller: TokenRow,
  name: string,
  changes: UserChangesInput,
  now: number,
): Promise<{ user: UserRow; revokedTokens: number }> {
  requireUnscoped(caller, 'manage users');
  const before = await userByName(catalog, name);
  requireRoleCeiling(caller, before.role, 'change a user');
  if (changes.role) requireRoleCeiling(caller, changes.role, 'give a user');
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  return catalog.transaction(async (tx) => {
    const user = await tx.updateUser(before.id, {
      ...(changes.role ? { role: changes.role } : {}),
      ...(passwordHash ? { passwordHash } : {}),
    });
    return { user, revokedTokens: await tx.revokeUserTokens(before.id, now) };
  });
}

/**
 * A session token for the console: the user's role, 12 hours. An unknown name and a wrong
 * password give the same error after the same work, so neither can be told apart.
 */
export async function login(
  catalog: Catalog,
  input: { name: string; password: string },
  tokenHash: string,
  now: number,
): Promise<{ user: UserRow; token: TokenRow }> {
  const user = await catalog.findUserByName(input.name);
  const ok = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyDecoy(input.password);
  if (!user || !ok) {
    throw new AuthError('LOGIN_FAILED', 'wrong user name or password', {
      hint: 'check both; an owner can set a new password with `offsite user set NAME --password-file F`',
    });
  }
  const token = await catalog.createToken({
    tokenHash,
    name: `session of ${user.name}`,
    role: user.role,
    vaultId: null,
    createdAt: now,
    expiresAt: now + SESSION_MS,
    userId: user.id,
  });
  return { user, token };
}

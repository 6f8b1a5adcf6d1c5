import { NotFoundError } from '../../errors/index.ts';
import type { Catalog, Role, TokenRow } from '../catalog/index.ts';
import { fields, iso, plainText, wholeNumber } from './input.ts';
import { requireRoleCeiling } from './roles.ts';
import { parseRole } from './users.ts';
import { visibleVault } from './visible.ts';

// API tokens for scripts and people. The HTTP layer makes the secret and hands over only
// its hash; here are the rules: a token is made at most at its maker's role, a scoped
// maker makes tokens for its own vault only, and a token a user made belongs to that user.

const DAY = 86_400_000;
const MAX_EXPIRY_DAYS = 3650;

export interface NewTokenInput {
  name: string;
  role: Role;
  vault: string | null;
  expiresDays: number | null;
}

export function parseNewToken(body: unknown): NewTokenInput {
  const input = fields(body, ['name', 'role', 'vault', 'expiresDays'], '{name, role, vault?, expiresDays?}');
  return {
    name: plainText('name', input.name, 100),
    role: parseRole(input.role),
    vault: input.vault === undefined || input.vault === null ? null : plainText('vault', input.vault, 100),
    expiresDays:
      input.expiresDays === undefined || input.expiresDays === null
        ? null
        : wholeNumber('expiresDays', input.expiresDays, 1, MAX_EXPIRY_DAYS),
  };
}

export async function createApiToken(
  catalog: Catalog,
  caller: TokenRow,
  input: NewTokenInput,
  tokenHash: string,
  now: number,
): Promise<TokenRow> {
  requireRoleCeiling(caller, input.role, 'create a token');
  const vaultId =
    input.vault === null ? caller.vaultId : (await visibleVault(catalog, input.vault, caller.vaultId)).id;
  return catalog.createToken({
    tokenHash,
    name: input.name,
    role: input.role,
    vaultId,
    createdAt: now,
    expiresAt: input.expiresDays === null ? null : now + input.expiresDays * DAY,
    userId: caller.userId,
  });
}

/** Every token to an unscoped caller; a scoped one sees the tokens of its vault. */
export function listApiTokens(catalog: Catalog, caller: TokenRow): Promise<TokenRow[]> {
  return caller.vaultId === null ? catalog.listTokens() : catalog.listTokens({ vaultId: caller.vaultId });
}

/** A token the caller cannot see is "not found"; one above the caller's role is forbidden. */
export async function revokeApiToken(
  catalog: Catalog,
  caller: TokenRow,
  id: string,
  now: number,
): Promise<TokenRow> {
  const target = (await listApiTokens(catalog, caller)).find((t) => t.id === id);
  if (!target) throw new NotFoundError('TOKEN_NOT_FOUND', `no API token with id ${id}`);
  requireRoleCeiling(caller, target.role, 'revoke a token');
  return catalog.revokeToken(id, now);
}

export type TokenState = 'active' | 'expired' | 'revoked';

function tokenState(row: TokenRow, now: number): TokenState {
  if (row.revokedAt !== null) return 'revoked';
  return row.expiresAt !== null && row.expiresAt <= now ? 'expired' : 'active';
}

/** The names tokens refer to, looked up once for a list. */
export async function tokenNames(catalog: Catalog) {
  const vaults = new Map((await catalog.listVaults({ includeDeleted: true })).map((v) => [v.id, v.name]));
  const users = new Map((await catalog.listUsers()).map((u) => [u.id, u.name]));
  return { vaults, users };
}

/** Never the secret nor its hash. */
export function tokenJson(row: TokenRow, names: Awaited<ReturnType<typeof tokenNames>>, now: number) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    vault: row.vaultId === null ? null : (names.vaults.get(row.vaultId) ?? row.vaultId),
    user: row.userId === null ? null : (names.users.get(row.userId) ?? row.userId),
    state: tokenState(row, now),
    createdAt: iso(row.createdAt),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
  };
}

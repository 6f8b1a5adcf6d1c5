import { AuthError } from '../../errors/index.ts';
import type { Role, TokenRow } from '../catalog/index.ts';
import { ROLES } from '../catalog/index.ts';

// Who may do what to people and tokens. Nobody hands out more power than they hold: a
// caller creates users and tokens at most at its own role, and a token scoped to one
// vault only makes tokens for that vault.

/** reader 0 < operator 1 < contributor 2 < owner 3 (ROLES lists them strongest first). */
export function roleRank(role: Role): number {
  return ROLES.length - 1 - ROLES.indexOf(role);
}

/** 403: the caller is known but may not do this. The HTTP layer maps the code to 403. */
export function forbidden(message: string, hint = 'use a token with a higher role'): AuthError {
  return new AuthError('FORBIDDEN', message, { hint });
}

export function requireRoleCeiling(caller: TokenRow, role: Role, what: string): void {
  if (roleRank(role) > roleRank(caller.role)) {
    throw forbidden(
      `the ${caller.role} token "${caller.name}" cannot ${what} with the ${role} role`,
      `give a role up to ${caller.role}`,
    );
  }
}

export function requireUnscoped(caller: TokenRow, what: string): void {
  if (caller.vaultId !== null) {
    throw forbidden(
      `a token scoped to one vault cannot ${what}`,
      'use a token that is not limited to a vault',
    );
  }
}

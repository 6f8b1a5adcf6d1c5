import { AuthError } from '../../errors/index.ts';
import type { Catalog, TokenRow } from '../catalog/index.ts';
import { SESSION_MS } from './users.ts';

// The one-time console login link the server prints at start: a code that is an owner
// token valid 15 minutes, usable once, and only to open a console session (12 h). The
// link carries it in the URL fragment, which browsers never send to a server, so it
// cannot reach a request log.

export const LOGIN_LINK_NAME = 'one-time login link';
export const LOGIN_LINK_MS = 15 * 60_000;

export async function issueLoginLink(catalog: Catalog, codeHash: string, now: number): Promise<TokenRow> {
  return catalog.createToken({
    tokenHash: codeHash,
    name: LOGIN_LINK_NAME,
    role: 'owner',
    vaultId: null,
    createdAt: now,
    expiresAt: now + LOGIN_LINK_MS,
  });
}

/** Spends the code (it works once) and opens a session under `sessionHash`. */
export async function redeemLoginLink(
  catalog: Catalog,
  codeHash: string,
  sessionHash: string,
  now: number,
): Promise<TokenRow> {
  return catalog.transaction(async (tx) => {
    const code = await tx.findToken(codeHash, now);
    if (!code || code.name !== LOGIN_LINK_NAME) {
      throw new AuthError('LOGIN_LINK_INVALID', 'this login link is unknown, used or expired', {
        hint: 'restart the server for a new link, or sign in with a user name and password',
      });
    }
    await tx.revokeToken(code.id, now);
    return tx.createToken({
      tokenHash: sessionHash,
      name: 'console session (login link)',
      role: 'owner',
      vaultId: null,
      createdAt: now,
      expiresAt: now + SESSION_MS,
    });
  });
}

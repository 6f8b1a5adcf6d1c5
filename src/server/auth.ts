import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AuthError } from '../errors/index.ts';
import type { Catalog, Role, TokenRow } from '../vault/catalog/index.ts';
import { LOGIN_LINK_NAME } from '../vault/ops/index.ts';
import { forbidden } from './http-status.ts';

// API tokens for people and scripts: `Authorization: Bearer TOKEN`. The catalog stores
// only SHA-256(token), so a stolen catalog does not hold usable tokens. Tokens never
// appear in logs or error messages.

/** Higher index, more power. Operators may act but not destroy (DESIGN.md §4). */
const RANK: Readonly<Record<Role, number>> = { reader: 0, operator: 1, contributor: 2, owner: 3 };

/** 32 random bytes, base64url: 256 bits, safe in headers and files. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

function unauthorized(message: string): AuthError {
  return new AuthError('UNAUTHORIZED', message, {
    hint: 'send Authorization: Bearer TOKEN with a valid API token (the admin token is DATA_DIR/admin-token)',
  });
}

/** The caller's token row; UNAUTHORIZED (401) when missing, malformed, unknown, revoked or expired. */
export async function authenticate(
  request: IncomingMessage,
  catalog: Catalog,
  now: number,
): Promise<TokenRow> {
  const header = request.headers.authorization;
  if (header === undefined) throw unauthorized('this endpoint needs an API token');
  const match = BEARER.exec(header);
  if (!match) throw unauthorized('the Authorization header is not "Bearer TOKEN"');
  const row = await catalog.findToken(hashToken(match[1]!), now);
  // A login link's code opens a console session and nothing else.
  if (!row || row.name === LOGIN_LINK_NAME)
    throw unauthorized('the API token is unknown, revoked or expired');
  return row;
}

export function hasRole(row: TokenRow, minRole: Role): boolean {
  return RANK[row.role] >= RANK[minRole];
}

/** FORBIDDEN (403) when the token's role is below minRole. */
export function requireRole(row: TokenRow, minRole: Role): void {
  if (!hasRole(row, minRole)) {
    throw forbidden(`this needs the ${minRole} role or higher; the token "${row.name}" is ${row.role}`);
  }
}

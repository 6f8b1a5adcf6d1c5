import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AuthError, BadInputError } from '../errors/index.ts';
import type { Catalog, TokenRow } from '../vault/catalog/index.ts';
import { LOGIN_LINK_NAME, login, parseLogin, redeemLoginLink } from '../vault/ops/index.ts';
import { authenticate, hashToken, newToken } from './auth.ts';
import { forbidden } from './http-status.ts';
import type { Authority, RequestContext, Route, RouteResult, Schema } from './types.ts';

// Console sessions: the browser holds its session token in an HttpOnly cookie (script on
// the page never sees it), and the server answers every 'token' route for that cookie as
// for the same bearer token. Because a browser sends the cookie by itself, a state-changing
// request with the cookie must also carry X-CSRF-Token: an HMAC of the session under a key
// derived from the CA key, handed out only in a same-origin JSON answer (a synchronizer
// token that needs no storage, the same on every server instance sharing the CA). Bearer
// API clients send no cookie and are unaffected.

export const SESSION_COOKIE = '__Host-offsite-session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD']);
const COOKIE_VALUE = /^[A-Za-z0-9_-]{20,100}$/;

function csrfKey(ca: Authority): Buffer {
  return createHash('sha256').update('offsite console csrf\0').update(ca.keyPem).digest();
}

/** The CSRF token of a session: bound to it, so it is useless with any other session. */
export function csrfToken(ca: Authority, session: TokenRow): string {
  return createHmac('sha256', csrfKey(ca)).update(session.tokenHash).digest('base64url');
}

function sessionCookieValue(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function csrfRefused(): Error {
  return forbidden(
    'this request carries the console session cookie but not its CSRF token',
    'the console sends X-CSRF-Token from GET /v1/console/session; scripts use Authorization: Bearer',
  );
}

/**
 * The caller of a 'token' route: the bearer token when there is an Authorization header,
 * else the console session cookie (state-changing methods also need the CSRF token).
 */
export async function authenticatePerson(
  req: IncomingMessage,
  catalog: Catalog,
  ca: Authority,
  now: number,
): Promise<TokenRow> {
  const cookie = sessionCookieValue(req);
  if (req.headers.authorization !== undefined || cookie === undefined || !COOKIE_VALUE.test(cookie)) {
    return authenticate(req, catalog, now);
  }
  const row = await catalog.findToken(hashToken(cookie), now);
  if (!row || row.name === LOGIN_LINK_NAME) {
    throw new AuthError('UNAUTHORIZED', 'the console session is unknown, ended or expired', {
      hint: 'sign in again',
    });
  }
  if (!SAFE_METHODS.has(req.method ?? '')) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameSecret(sent, csrfToken(ca, row))) throw csrfRefused();
  }
  return row;
}

function cookieHeader(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

function sessionBody(ctx: RequestContext, row: TokenRow, user: string) {
  return {
    user,
    role: row.role,
    expiresAt: new Date(row.expiresAt ?? ctx.services.now()).toISOString(),
    csrfToken: csrfToken(ctx.services.ca, row),
  };
}

async function userName(catalog: Catalog, row: TokenRow): Promise<string> {
  return row.userId === null ? row.name : (await catalog.getUser(row.userId)).name;
}

/** Signs in with {name, password} or {code} (the one-time link), both rate-limited. */
async function openSession(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, limits } = ctx.services;
  const now = ctx.services.now();
  const secret = newToken();
  const address = ctx.request.socket.remoteAddress;
  const body = (ctx.body ?? {}) as Record<string, unknown>;
  let row: TokenRow;
  let user: string;
  if (typeof body === 'object' && body !== null && 'code' in body) {
    const { code } = body;
    if (typeof code !== 'string' || code.length === 0 || code.length > 100 || Object.keys(body).length !== 1)
      throw new BadInputError('BAD_FIELD', 'code: the code of the login link (the part after #login=)');
    row = await limits.guard([`link-ip:${address}`], now, () =>
      redeemLoginLink(catalog, hashToken(code), hashToken(secret), now),
    );
    user = 'owner (login link)';
  } else {
    const input = parseLogin(ctx.body);
    const keys = [`login-ip:${address}`, `login-user:${input.name}`];
    const session = await limits.guard(keys, now, () => login(catalog, input, hashToken(secret), now));
    row = session.token;
    user = session.user.name;
  }
  const maxAge = Math.max(1, Math.floor(((row.expiresAt ?? now) - now) / 1000));
  return {
    status: 201,
    body: sessionBody(ctx, row, user),
    headers: { 'Set-Cookie': cookieHeader(secret, maxAge) },
  };
}

/**
 * Public, so a page load without a session is not a failed request: {signedIn: false}
 * without a live session cookie, else who is signed in and the session's CSRF token.
 */
async function showSession(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const cookie = sessionCookieValue(ctx.request);
  const row =
    cookie && COOKIE_VALUE.test(cookie) ? await catalog.findToken(hashToken(cookie), now()) : undefined;
  if (!row || row.name === LOGIN_LINK_NAME) return { body: { signedIn: false } };
  return { body: { signedIn: true, ...sessionBody(ctx, row, await userName(catalog, row)) } };
}

/** Ends the session: the token is revoked (the cookie alone is worth nothing after). */
async function closeSession(ctx: RequestContext): Promise<RouteResult> {
  const row = ctx.token!;
  const cookie = sessionCookieValue(ctx.request);
  if (
    ctx.request.headers.authorization !== undefined ||
    cookie === undefined ||
    hashToken(cookie) !== row.tokenHash
  ) {
    throw forbidden('only a console session signs out here', 'revoke an API token with DELETE /v1/tokens/ID');
  }
  await ctx.services.catalog.revokeToken(row.id, ctx.services.now());
  return { body: { closed: true }, headers: { 'Set-Cookie': cookieHeader('', 0) } };
}

const SESSION_SCHEMA: Schema = {
  type: 'object',
  required: ['user', 'role', 'expiresAt', 'csrfToken'],
  properties: {
    user: { type: 'string' },
    role: { type: 'string', enum: ['reader', 'operator', 'contributor', 'owner'] },
    expiresAt: { type: 'string', format: 'date-time' },
    csrfToken: { type: 'string', description: 'send as X-CSRF-Token on every state-changing request' },
  },
};

export const CONSOLE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/console/session',
    auth: 'public',
    bodyLimit: 4 * 1024,
    summary:
      'Open a console session ({name, password} or {code} of the login link): an HttpOnly cookie and its CSRF token',
    tag: 'console',
    requestBody: {
      oneOf: [
        {
          type: 'object',
          required: ['name', 'password'],
          additionalProperties: false,
          properties: { name: { type: 'string' }, password: { type: 'string', writeOnly: true } },
        },
        {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', writeOnly: true } },
        },
      ],
    },
    response: { status: 201, schema: SESSION_SCHEMA },
    handler: openSession,
  },
  {
    method: 'GET',
    path: '/v1/console/session',
    auth: 'public',
    bodyLimit: 0,
    summary:
      'Whether the session cookie is signed in: then who, their role and the CSRF token of the session',
    tag: 'console',
    response: {
      status: 200,
      schema: {
        ...SESSION_SCHEMA,
        required: ['signedIn'],
        properties: {
          signedIn: { type: 'boolean' },
          ...(SESSION_SCHEMA.properties as Record<string, Schema>),
        },
      },
    },
    handler: showSession,
  },
  {
    method: 'DELETE',
    path: '/v1/console/session',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'Sign out: the session token is revoked and the cookie cleared',
    tag: 'console',
    response: { status: 200, schema: { type: 'object', properties: { closed: { const: true } } } },
    handler: closeSession,
  },
];

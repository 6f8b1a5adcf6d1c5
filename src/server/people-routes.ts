import type { TokenRow } from '../vault/catalog/index.ts';
import {
  changeUser,
  createApiToken,
  createUser,
  listApiTokens,
  listUsers,
  login,
  parseLogin,
  parseNewToken,
  parseNewUser,
  parseUserChanges,
  revokeApiToken,
  tokenJson,
  tokenNames,
  userJson,
} from '../vault/ops/index.ts';
import { hashToken, newToken } from './auth.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// People: users who sign in to the console (login gives a 12-hour session token) and API
// tokens for scripts. The rules (role ceiling, vault scope, password hashing) live in
// src/vault/ops; here are the HTTP shapes. Secrets appear in exactly two answers — a new
// token and a login — and never in a list or a log.

const KIB = 1024;
const ROLE: Schema = { type: 'string', enum: ['reader', 'operator', 'contributor', 'owner'] };
const TIME: Schema = { type: 'string', format: 'date-time' };
const OPT_TIME: Schema = { type: ['string', 'null'], format: 'date-time' };

const USER_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'name', 'role', 'createdAt'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, role: ROLE, createdAt: TIME },
};

const TOKEN_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'name', 'role', 'vault', 'user', 'state', 'createdAt', 'expiresAt', 'revokedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: ROLE,
    vault: { type: ['string', 'null'], description: 'the vault the token is limited to' },
    user: { type: ['string', 'null'], description: 'the user the token belongs to' },
    state: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    createdAt: TIME,
    expiresAt: OPT_TIME,
    revokedAt: OPT_TIME,
  },
};

const NEW_TOKEN_SCHEMA: Schema = {
  ...TOKEN_SCHEMA,
  required: [...(TOKEN_SCHEMA.required as string[]), 'token'],
  properties: {
    ...(TOKEN_SCHEMA.properties as Record<string, Schema>),
    token: { type: 'string', description: 'the secret: shown this once, stored only as a hash' },
  },
};

const PASSWORD: Schema = { type: 'string', minLength: 12, maxLength: 1024, writeOnly: true };

function caller(ctx: RequestContext): TokenRow {
  return ctx.token!;
}

async function loginRoute(ctx: RequestContext): Promise<RouteResult> {
  const secret = newToken();
  const now = ctx.services.now();
  const input = parseLogin(ctx.body);
  const keys = [`login-ip:${ctx.request.socket.remoteAddress}`, `login-user:${input.name}`];
  const { user, token } = await ctx.services.limits.guard(keys, now, () =>
    login(ctx.services.catalog, input, hashToken(secret), now),
  );
  return {
    body: { token: secret, expiresAt: new Date(token.expiresAt!).toISOString(), user: userJson(user) },
  };
}

async function createUserRoute(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const user = await createUser(catalog, caller(ctx), parseNewUser(ctx.body), now());
  return { status: 201, body: userJson(user) };
}

async function listUsersRoute(ctx: RequestContext): Promise<RouteResult> {
  return { body: { users: (await listUsers(ctx.services.catalog, caller(ctx))).map(userJson) } };
}

async function changeUserRoute(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const changes = parseUserChanges(ctx.body);
  const { user, revokedTokens } = await changeUser(catalog, caller(ctx), ctx.params.name!, changes, now());
  return { body: { ...userJson(user), revokedTokens } };
}

async function createTokenRoute(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const secret = newToken();
  const row = await createApiToken(catalog, caller(ctx), parseNewToken(ctx.body), hashToken(secret), now());
  return { status: 201, body: { ...tokenJson(row, await tokenNames(catalog), now()), token: secret } };
}

async function listTokensRoute(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const rows = await listApiTokens(catalog, caller(ctx));
  const names = await tokenNames(catalog);
  return { body: { tokens: rows.map((row) => tokenJson(row, names, now())) } };
}

async function revokeTokenRoute(ctx: RequestContext): Promise<RouteResult> {
  const { catalog, now } = ctx.services;
  const row = await revokeApiToken(catalog, caller(ctx), ctx.params.id!, now());
  return { body: tokenJson(row, await tokenNames(catalog), now()) };
}

const USER_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/users',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 4 * KIB,
    summary: 'Create a user who signs in with a password (at most the caller’s role)',
    tag: 'people',
    requestBody: {
      type: 'object',
      required: ['name', 'password', 'role'],
      additionalProperties: false,
      properties: { name: { type: 'string', maxLength: 64 }, password: PASSWORD, role: ROLE },
    },
    response: { status: 201, schema: USER_SCHEMA },
    handler: createUserRoute,
  },
  {
    method: 'GET',
    path: '/v1/users',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 0,
    summary: 'List users (names and roles; never passwords)',
    tag: 'people',
    response: {
      status: 200,
      schema: { type: 'object', properties: { users: { type: 'array', items: USER_SCHEMA } } },
    },
    handler: listUsersRoute,
  },
  {
    method: 'PATCH',
    path: '/v1/users/:name',
    auth: 'token',
    minRole: 'owner',
    bodyLimit: 4 * KIB,
    summary: 'Change a user’s role or password; every token of the user is revoked',
    tag: 'people',
    requestBody: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { role: ROLE, password: PASSWORD },
    },
    response: {
      status: 200,
      schema: {
        ...USER_SCHEMA,
        properties: {
          ...(USER_SCHEMA.properties as Record<string, Schema>),
          revokedTokens: { type: 'integer' },
        },
      },
    },
    handler: changeUserRoute,
  },
  {
    method: 'POST',
    path: '/v1/login',
    auth: 'public',
    bodyLimit: 4 * KIB,
    summary: 'Sign in: a session token with the user’s role, valid 12 hours',
    tag: 'people',
    requestBody: {
      type: 'object',
      required: ['name', 'password'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, password: { type: 'string', writeOnly: true } },
    },
    response: {
      status: 200,
      schema: {
        type: 'object',
        required: ['token', 'expiresAt', 'user'],
        properties: { token: { type: 'string' }, expiresAt: TIME, user: USER_SCHEMA },
      },
    },
    handler: loginRoute,
  },
];

const TOKEN_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/tokens',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 4 * KIB,
    summary: 'Create an API token (at most the caller’s role; the secret is shown once)',
    tag: 'people',
    requestBody: {
      type: 'object',
      required: ['name', 'role'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', maxLength: 100 },
        role: ROLE,
        vault: { type: ['string', 'null'], description: 'limit the token to this vault' },
        expiresDays: { type: ['integer', 'null'], minimum: 1, maximum: 3650 },
      },
    },
    response: { status: 201, schema: NEW_TOKEN_SCHEMA },
    handler: createTokenRoute,
  },
  {
    method: 'GET',
    path: '/v1/tokens',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List API tokens (never their secrets); a scoped token sees its vault’s',
    tag: 'people',
    response: {
      status: 200,
      schema: { type: 'object', properties: { tokens: { type: 'array', items: TOKEN_SCHEMA } } },
    },
    handler: listTokensRoute,
  },
  {
    method: 'DELETE',
    path: '/v1/tokens/:id',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Revoke an API token (one of at most the caller’s role)',
    tag: 'people',
    response: { status: 200, schema: TOKEN_SCHEMA },
    handler: revokeTokenRoute,
  },
];

export const PEOPLE_ROUTES: readonly Route[] = [...USER_ROUTES, ...TOKEN_ROUTES];

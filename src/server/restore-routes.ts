import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import { type BlobStore, httpProtocol, validatePrefix } from '../storage/index.ts';
import type { ServerRow } from '../vault/catalog/index.ts';
import { agentRepoStore } from '../vault/geo/index.ts';
import { agentOf, objectName } from './data-objects.ts';
import { DATA_ROUTES } from './data-routes.ts';
import { forbidden } from './http-status.ts';
import { KEY_ROUTES } from './key-routes.ts';
import type { RequestContext, Route, RouteResult } from './types.ts';

// Restore elsewhere: an agent reads another server's repository of its own vault, to
// restore that server's data on a new machine with that server's passphrase alone. Any
// agent of the vault may read the other's `config` and `keys/` (wrapped by argon2id:
// what the vault's operator sees anyway); everything else needs the restore access T,
// which only the master key gives (HKDF of it), compared by its SHA-256, which the owner
// stored in its repository. Reads only: another server's objects are never written or
// deleted. The vault never sees the passphrase or the key — only T, which opens no more
// than the ciphertext the vault already holds.

const {
  LIST_PAGE_SIZE,
  RESTORE_ACCESS_HEADER,
  RESTORE_ACCESS_OBJECT,
  decodeRestoreAccess,
  openToVault,
  OBJECTS_PATH,
} = httpProtocol;

const ACCESS_HINT =
  "open it with that server's passphrase (e.g. `offsite restore latest --from-server NAME`): the agent derives the access from the key it unlocks; the passphrase never leaves the machine";

/** The named server (by name, else id) of the caller's own vault; a server of another vault is not found. */
async function namedServer(ctx: RequestContext): Promise<ServerRow> {
  const { vault } = agentOf(ctx);
  const wanted = ctx.params.server ?? '';
  const servers = await ctx.services.catalog.listServers(vault.id);
  const server = servers.find((s) => s.name === wanted) ?? servers.find((s) => s.id === wanted);
  if (!server) {
    throw new NotFoundError('SERVER_NOT_FOUND', `the vault "${vault.name}" has no server named "${wanted}"`, {
      hint: 'give the name the server was registered under, in the vault this agent is registered with',
    });
  }
  return server;
}

function presentedToken(ctx: RequestContext, server: ServerRow): Buffer {
  const header = ctx.request.headers[RESTORE_ACCESS_HEADER];
  if (typeof header !== 'string' || header === '') {
    throw new AuthError(
      'RESTORE_ACCESS_REQUIRED',
      `reading the repository of server "${server.name}" needs its restore access`,
      { hint: ACCESS_HINT },
    );
  }
  const token = header.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(token)) throw denied(server);
  return Buffer.from(token, 'hex');
}

function denied(server: ServerRow): AuthError {
  return new AuthError('RESTORE_ACCESS_DENIED', `wrong restore access for server "${server.name}"`, {
    hint: "the passphrase that unlocked the key is not that server's (check the server name and its passphrase)",
  });
}

/** The SHA-256 of T the server published, or RESTORE_ACCESS_UNAVAILABLE. */
async function publishedHash(store: BlobStore, server: ServerRow): Promise<Buffer> {
  let bytes: Buffer | undefined;
  try {
    bytes = await store.get(RESTORE_ACCESS_OBJECT);
  } catch (err) {
    if (!(isOffsiteError(err) && err.code === 'OBJECT_NOT_FOUND')) throw err;
  }
  const hash = bytes && decodeRestoreAccess(bytes);
  if (hash === undefined) {
    throw new AuthError(
      'RESTORE_ACCESS_UNAVAILABLE',
      `server "${server.name}" has not published its restore access`,
      {
        hint: 'an agent publishes it when it opens its repository in the vault (init, backup, snapshots, ...); run one command there with this version',
      },
    );
  }
  return Buffer.from(hash, 'hex');
}

/** Refuses (401) unless the request carries T of that server's repository: SHA-256 compared in constant time. */
async function requireRestoreAccess(ctx: RequestContext, server: ServerRow, store: BlobStore): Promise<void> {
  const token = presentedToken(ctx, server);
  const expected = await publishedHash(store, server);
  const presented = createHash('sha256').update(token).digest();
  if (!timingSafeEqual(presented, expected)) throw denied(server);
}

/**
 * The request as a read of that server's own repository: the data routes' read handlers
 * then serve it exactly as they serve an agent its own (ranges, 404s, pages).
 */
async function asReaderOf(ctx: RequestContext, wants: string | undefined): Promise<RequestContext> {
  const { vault } = agentOf(ctx);
  const server = await namedServer(ctx);
  if (wants === undefined || !openToVault(wants)) {
    const store = agentRepoStore(ctx.services.regionStore, vault, server.id, ctx.services.log);
    await requireRestoreAccess(ctx, server, store);
  }
  return { ...ctx, agent: { vault, server } };
}

function dataHandler(method: 'GET' | 'HEAD', path: string): Route['handler'] {
  const route = DATA_ROUTES.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`the data routes have no ${method} ${path}`);
  return route.handler;
}

const readObject = dataHandler('GET', `${OBJECTS_PATH}/:name*`);
const headObject = dataHandler('HEAD', `${OBJECTS_PATH}/:name*`);
const listObjects = dataHandler('GET', OBJECTS_PATH);

async function getOther(ctx: RequestContext): Promise<RouteResult> {
  return readObject(await asReaderOf(ctx, objectName(ctx)));
}

async function headOther(ctx: RequestContext): Promise<RouteResult> {
  return headObject(await asReaderOf(ctx, objectName(ctx)));
}

/** A listing of keys/ only is open to the vault (unlocking lists the key slots). */
async function listOther(ctx: RequestContext): Promise<RouteResult> {
  const prefix = validatePrefix(ctx.query.get('prefix') ?? '');
  return listObjects(await asReaderOf(ctx, prefix.startsWith('keys/') ? prefix : undefined));
}

async function refuseWrite(): Promise<RouteResult> {
  throw forbidden(
    "another server's repository is read-only: agents never write or delete each other's objects",
    "restore its data with --from-server; back up into this agent's own repository",
  );
}

const OTHER_OBJECTS = '/v1/agent/servers/:server/repo/objects';
const OTHER_OBJECT = `${OTHER_OBJECTS}/:name*`;
const AGENT = { auth: 'agent', tag: 'restore elsewhere' } as const;
const ACCESS_DOC = `config and keys/… are readable by any agent of the vault; anything else needs ${RESTORE_ACCESS_HEADER}: the hex restore access T of that repository (401 RESTORE_ACCESS_REQUIRED, RESTORE_ACCESS_DENIED, RESTORE_ACCESS_UNAVAILABLE). 404 SERVER_NOT_FOUND for a server that is not in the caller's vault.`;

export const RESTORE_ROUTES: readonly Route[] = [
  {
    ...AGENT,
    method: 'GET',
    path: OTHER_OBJECT,
    bodyLimit: 0,
    summary: `Read an object of another server of this vault, as GET ${OBJECTS_PATH}/<name> reads one's own (Range too). ${ACCESS_DOC}`,
    response: {
      status: 200,
      schema: { type: 'string', format: 'binary' },
      contentType: 'application/octet-stream',
    },
    handler: getOther,
  },
  {
    ...AGENT,
    method: 'HEAD',
    path: OTHER_OBJECT,
    bodyLimit: 0,
    summary: `Whether an object of another server of this vault exists: 200 with Content-Length, or 404. ${ACCESS_DOC}`,
    response: {
      status: 200,
      schema: { type: 'string', format: 'binary' },
      contentType: 'application/octet-stream',
    },
    handler: headOther,
  },
  {
    ...AGENT,
    method: 'GET',
    path: OTHER_OBJECTS,
    bodyLimit: 0,
    summary: `List objects of another server of this vault (?prefix=&after=, pages of ${LIST_PAGE_SIZE}). A prefix under keys/ is open to the vault; ${ACCESS_DOC}`,
    response: { status: 200, schema: { type: 'object' } },
    handler: listOther,
  },
  {
    ...AGENT,
    method: 'PUT',
    path: OTHER_OBJECT,
    bodyLimit: 0,
    body: 'stream',
    summary: "Always 403 FORBIDDEN: another server's repository is read-only.",
    response: { status: 403, schema: { type: 'object' } },
    handler: refuseWrite,
  },
  {
    ...AGENT,
    method: 'DELETE',
    path: OTHER_OBJECT,
    bodyLimit: 0,
    summary: "Always 403 FORBIDDEN: another server's repository is read-only.",
    response: { status: 403, schema: { type: 'object' } },
    handler: refuseWrite,
  },
  ...KEY_ROUTES,
];

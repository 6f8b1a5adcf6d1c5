import { BadInputError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import {
  type BlobStore,
  httpProtocol,
  type ListedObject,
  validateObjectName,
  validatePrefix,
} from '../storage/index.ts';
import { agentOf, agentStore, objectName, objectNotFound, requestedRange } from './data-objects.ts';
import { putObject } from './data-upload.ts';
import { forbidden } from './http-status.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// The agent data API: each registered agent reads and writes its own repository (an
// ordinary Offsite repository under its prefix of the vault's region) and nothing else.
// It can add objects, never overwrite them, and delete only its backup sessions: history
// is deleted by the vault, by retention (DESIGN.md §2.3). The wire format is in
// src/storage/http/protocol.ts, which HttpBlobStore shares.

const { AGENT_DELETABLE_PREFIX, LIST_PAGE_SIZE, MAX_OBJECT_BYTES, OBJECTS_PATH, SHA256_HEADER } =
  httpProtocol;
const OCTETS = 'application/octet-stream';
const SNAPSHOTS = 'snapshots/';
/** The name of a snapshot object: objects of other names are not recovery points. */
const SNAPSHOT_NAME = /^snapshots\/[0-9a-f]{64}$/;

async function getObject(ctx: RequestContext): Promise<RouteResult> {
  const name = objectName(ctx);
  if (SNAPSHOT_NAME.test(name)) await requireRecoveryPoint(ctx, name);
  const range = requestedRange(ctx.request.headers.range);
  const store = agentStore(ctx);
  if (range === undefined) return { body: await readObject(store, name), contentType: OCTETS };
  const info = await store.head(name);
  if (info === null) throw objectNotFound(name);
  if (range.end >= info.size) {
    throw new BadInputError(
      'RANGE_NOT_SATISFIABLE',
      `range ${range.offset}-${range.end} is past the end of ${name} (${info.size} bytes)`,
      { hint: 'a range must lie within the object' },
    );
  }
  const bytes = await readObject(store, name, range);
  return {
    status: 206,
    body: bytes,
    contentType: OCTETS,
    headers: { 'Content-Range': `bytes ${range.offset}-${range.end}/${info.size}` },
  };
}

async function readObject(store: BlobStore, name: string, range?: { offset: number; length: number }) {
  try {
    return await store.get(name, range);
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'OBJECT_NOT_FOUND') throw objectNotFound(name);
    throw err;
  }
}

async function headObject(ctx: RequestContext): Promise<RouteResult> {
  const name = objectName(ctx);
  const info = await agentStore(ctx).head(name);
  if (info === null) throw objectNotFound(name);
  // A HEAD answer carries no body; its Content-Length is the object's.
  return { body: '', contentType: OCTETS, headers: { 'Content-Length': info.size } };
}

async function deleteObject(ctx: RequestContext): Promise<RouteResult> {
  const name = objectName(ctx);
  if (!name.startsWith(AGENT_DELETABLE_PREFIX)) {
    throw forbidden(
      `agents cannot delete backup data; the vault deletes it by retention (refused: ${name})`,
      `an agent may delete only its own ${AGENT_DELETABLE_PREFIX} objects; recovery points expire by the vault's retention policy`,
    );
  }
  await agentStore(ctx).delete(name);
  return { body: { deleted: name } };
}

function byName(a: ListedObject, b: ListedObject): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The first `pageSize` objects by name after `after`. The store lists in no order, so
 * every page reads the whole listing, but keeps at most 2 × pageSize entries at a time.
 */
async function pageOf(
  listing: AsyncIterable<ListedObject>,
  after: string,
  pageSize: number,
): Promise<httpProtocol.ListPage> {
  let kept: ListedObject[] = [];
  let more = false;
  for await (const object of listing) {
    if (object.name <= after) continue;
    kept.push(object);
    if (kept.length >= 2 * pageSize) {
      kept = kept.sort(byName).slice(0, pageSize);
      more = true;
    }
  }
  kept.sort(byName);
  more ||= kept.length > pageSize;
  const objects = kept.slice(0, pageSize).map(({ name, size }) => ({ name, size }));
  return { objects, next: more ? objects.at(-1)!.name : null };
}

async function listObjects(ctx: RequestContext): Promise<RouteResult> {
  const prefix = validatePrefix(ctx.query.get('prefix') ?? '');
  const after = ctx.query.get('after') ?? '';
  if (after !== '') validateObjectName(after);
  let listing = agentStore(ctx).list(prefix);
  if (SNAPSHOTS.startsWith(prefix) || prefix.startsWith(SNAPSHOTS)) {
    listing = onlyRecoveryPoints(listing, await snapshotStates(ctx));
  }
  return { body: await pageOf(listing, after, LIST_PAGE_SIZE) };
}

/**
 * The agent sees the snapshots of its active recovery points only. A soft-deleted one is
 * out of sight until someone undeletes it: restoring it, or backing up on top of it,
 * would lean on a point the vault is about to delete (its objects stay for the undelete).
 * A snapshot never committed (the backup stopped between storing and committing it) is
 * no recovery point: its packs may be collected, so nothing may rely on it.
 */
async function snapshotStates(ctx: RequestContext): Promise<Map<string, 'active' | 'soft-deleted'>> {
  const points = await ctx.services.catalog.listPoints(agentOf(ctx).server.id, { state: 'all' });
  const states = new Map<string, 'active' | 'soft-deleted'>();
  for (const p of points) {
    if (p.deletedAt === null)
      states.set(`${SNAPSHOTS}${p.snapshotName}`, p.softDeletedAt === null ? 'active' : 'soft-deleted');
  }
  return states;
}

async function* onlyRecoveryPoints(listing: AsyncIterable<ListedObject>, states: Map<string, string>) {
  for await (const object of listing) {
    if (!SNAPSHOT_NAME.test(object.name) || states.get(object.name) === 'active') yield object;
  }
}

async function requireRecoveryPoint(ctx: RequestContext, name: string): Promise<void> {
  const state = (await snapshotStates(ctx)).get(name);
  if (state === 'soft-deleted') {
    throw new NotFoundError('POINT_SOFT_DELETED', `the recovery point of ${name} is soft-deleted`, {
      hint: 'undelete it first (offsite vault undelete VAULT POINT-ID), then restore it',
    });
  }
  if (state === undefined && (await agentStore(ctx).head(name)) !== null) {
    throw new NotFoundError(
      'POINT_NOT_COMMITTED',
      `${name} was stored but never committed as a recovery point`,
      {
        hint: 'the agent commits it with its next backup; until then it cannot be restored',
      },
    );
  }
}

const NAME_DOC =
  'object name in the repository (slashes included, e.g. data/ab/ab12…); segments of A-Z a-z 0-9 . _ -';
const BINARY: Schema = { type: 'string', format: 'binary' };
const PUT_ANSWER: Schema = {
  type: 'object',
  required: ['name', 'size', 'created'],
  properties: { name: { type: 'string' }, size: { type: 'integer' }, created: { type: 'boolean' } },
};
const LIST_PAGE: Schema = {
  type: 'object',
  required: ['objects', 'next'],
  properties: {
    objects: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, size: { type: 'integer' } } },
    },
    next: { type: ['string', 'null'], description: 'pass as `after` for the next page; null on the last' },
  },
};

const OBJECT_PATH = `${OBJECTS_PATH}/:name*`;
const AGENT = { auth: 'agent', tag: 'agent data' } as const;

export const DATA_ROUTES: readonly Route[] = [
  {
    ...AGENT,
    method: 'PUT',
    path: OBJECT_PATH,
    bodyLimit: MAX_OBJECT_BYTES,
    body: 'stream',
    summary: `Upload an object (${NAME_DOC}). Create-only: 201 stored; 200 {created:false} when the same bytes are already there; 409 OBJECT_EXISTS when other bytes are. Needs Content-Length and ${SHA256_HEADER} (hex SHA-256 of the body; 400 SHA256_MISMATCH otherwise); a pack data/<xx>/<id> must be named by that hash. 507 QUOTA_EXCEEDED when the vault is full.`,
    response: { status: 201, schema: PUT_ANSWER },
    handler: putObject,
  },
  {
    ...AGENT,
    method: 'GET',
    path: OBJECT_PATH,
    bodyLimit: 0,
    summary: `Read an object (${NAME_DOC}). With Range: bytes=START-END (END inclusive, within the object) 206 and Content-Range; 416 RANGE_NOT_SATISFIABLE past the end.`,
    response: { status: 200, schema: BINARY, contentType: OCTETS },
    handler: getObject,
  },
  {
    ...AGENT,
    method: 'HEAD',
    path: OBJECT_PATH,
    bodyLimit: 0,
    summary: `Whether an object exists (${NAME_DOC}): 200 with its size as Content-Length, or 404.`,
    response: { status: 200, schema: BINARY, contentType: OCTETS },
    handler: headObject,
  },
  {
    ...AGENT,
    method: 'DELETE',
    path: OBJECT_PATH,
    bodyLimit: 0,
    summary: `Delete one of this agent's ${AGENT_DELETABLE_PREFIX} objects (idempotent). Any other object: 403 FORBIDDEN — backup data is deleted by the vault's retention only.`,
    response: { status: 200, schema: { type: 'object', properties: { deleted: { type: 'string' } } } },
    handler: deleteObject,
  },
  {
    ...AGENT,
    method: 'GET',
    path: OBJECTS_PATH,
    bodyLimit: 0,
    summary: `List this agent's objects whose names start with ?prefix= (default all), as JSON pages of at most ${LIST_PAGE_SIZE} sorted by name: {objects: [{name, size}], next}; pass next as ?after= until it is null.`,
    response: { status: 200, schema: LIST_PAGE },
    handler: listObjects,
  },
];

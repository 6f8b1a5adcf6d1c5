import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BadInputError, ConflictError, isOffsiteError } from '../errors/index.ts';
import { type BlobStore, httpProtocol } from '../storage/index.ts';
import type { Catalog } from '../vault/catalog/index.ts';
import { checkQuota } from '../vault/quota.ts';
import { readUpload, type Upload, uploadLength } from './body.ts';
import { agentOf, agentStore, objectName, packIdOf } from './data-objects.ts';
import type { RequestContext, RouteResult } from './types.ts';

// PUT of an object into the agent's repository: create-only, SHA-256 checked, quota
// checked, packs recorded in the catalog. Everything that can be refused without the body
// is refused before it is read; nothing is stored until the whole body is in and verified.

const { MAX_OBJECT_BYTES, SHA256_HEADER } = httpProtocol;
const SHA256 = /^[0-9a-f]{64}$/;

function claimedSha256(request: IncomingMessage): string {
  const header = request.headers[SHA256_HEADER];
  if (typeof header !== 'string' || header === '') {
    throw new BadInputError('SHA256_REQUIRED', `an upload needs the ${SHA256_HEADER} header`, {
      hint: 'send the hex SHA-256 of the body in it',
    });
  }
  const claimed = header.trim().toLowerCase();
  if (!SHA256.test(claimed)) {
    throw new BadInputError('BAD_SHA256', `the ${SHA256_HEADER} header is not 64 hex digits`);
  }
  return claimed;
}

function exists(name: string): ConflictError {
  return new ConflictError('OBJECT_EXISTS', `an object named ${name} already exists with other bytes`, {
    hint: 'objects are never overwritten; write new data under a new name',
  });
}

/** Stores the bytes; false when the name was taken meanwhile (a concurrent upload). */
async function putOnce(store: BlobStore, name: string, bytes: Buffer): Promise<boolean> {
  try {
    await store.put(name, bytes);
    return true;
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'OBJECT_EXISTS') return false;
    throw err;
  }
}

/** The stored object is these very bytes (a retry after a lost answer), or OBJECT_EXISTS. */
async function requireSameBytes(store: BlobStore, name: string, upload: Upload): Promise<void> {
  const stored = await store.get(name);
  const sha256 = createHash('sha256').update(stored).digest('hex');
  if (stored.length !== upload.bytes.length || sha256 !== upload.sha256) throw exists(name);
}

/**
 * Records a stored pack, unless the catalog has a live row for it already. So when the
 * recording failed after the put, the client's retry (which finds the same bytes stored)
 * records it; a concurrent retry that records it first is not an error.
 */
async function recordPack(catalog: Catalog, serverId: string, id: string, size: number, now: number) {
  const known = await catalog.findPack(serverId, id);
  if (known !== undefined && known.deletedAt === null) return;
  try {
    await catalog.recordPack({ serverId, name: id, size, createdAt: now });
  } catch (err) {
    if (!(isOffsiteError(err) && err.code === 'PACK_EXISTS')) throw err;
  }
}

export async function putObject(ctx: RequestContext): Promise<RouteResult> {
  const { vault, server } = agentOf(ctx);
  const { catalog } = ctx.services;
  const name = objectName(ctx);
  const claimed = claimedSha256(ctx.request);
  const packId = packIdOf(name);
  if (packId !== undefined && packId !== claimed) {
    throw new BadInputError('BAD_PACK_NAME', `the pack ${name} is not named by the SHA-256 of its bytes`, {
      hint: 'name a pack by the lowercase hex SHA-256 of its bytes',
    });
  }
  const length = uploadLength(ctx.request, MAX_OBJECT_BYTES);
  const store = agentStore(ctx);
  const existing = await store.head(name);
  if (existing !== null && existing.size !== length) throw exists(name);
  // Concurrent uploads each pass this check alone, so a vault can overshoot its quota by
  // the uploads in flight: bounded, and the next upload is refused.
  if (existing === null) await checkQuota(catalog, vault, length);
  const upload = await readUpload(ctx.request, length);
  if (upload.sha256 !== claimed) {
    throw new BadInputError('SHA256_MISMATCH', `the body of ${name} does not match its ${SHA256_HEADER}`, {
      hint: 'the upload was damaged on the way; send it again',
    });
  }
  const created = existing === null && (await putOnce(store, name, upload.bytes));
  if (!created) await requireSameBytes(store, name, upload);
  if (packId !== undefined) await recordPack(catalog, server.id, packId, length, ctx.services.now());
  const answer: httpProtocol.PutAnswer = { name, size: length, created };
  return { status: created ? 201 : 200, body: answer };
}

import { BadInputError } from '../errors/index.ts';
import { httpProtocol, validateObjectName } from '../storage/index.ts';
import {
  DIRECT_UPLOAD_TTL_MS,
  directUploadNotOffered,
  directUploadUnavailable,
  recordUploadedPack,
  regionKey,
  uploadSigner,
  verifyUploadedPack,
} from '../vault/direct-upload.ts';
import { repoStore } from '../vault/layout.ts';
import { checkQuota } from '../vault/quota.ts';
import { agentOf, maxNameLength, packIdOf } from './data-objects.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';

// Direct upload of packs to object storage (src/vault/direct-upload.ts): the vault signs,
// the agent sends the bytes to storage, the vault checks them at complete. Writes and
// checks use the primary region's store itself, never the read fallback: a pack must be
// in the primary, and a secondary lagging behind must not answer for it.

const { MAX_OBJECT_BYTES, UPLOADS_PATH, UPLOADS_COMPLETE_PATH } = httpProtocol;

/** The pack id of a requested name; only packs go direct (other objects are small). */
function packName(ctx: RequestContext, value: unknown): { name: string; id: string } {
  const name = validateObjectName(typeof value === 'string' ? value : '');
  const id = name.length <= maxNameLength(agentOf(ctx)) ? packIdOf(name) : undefined;
  if (id === undefined) throw directUploadUnavailable(`${name} is not a pack (data/<xx>/<sha256>)`);
  return { name, id };
}

function body(ctx: RequestContext): Record<string, unknown> {
  const b = ctx.body;
  if (typeof b !== 'object' || b === null) throw new BadInputError('BAD_BODY', 'a JSON object is required');
  return b as Record<string, unknown>;
}

function primaryRepo(ctx: RequestContext) {
  const { vault, server } = agentOf(ctx);
  return repoStore(ctx.services.regionStore(vault.region), vault.id, server.id);
}

async function requestUpload(ctx: RequestContext): Promise<RouteResult> {
  const { vault, server } = agentOf(ctx);
  const input = body(ctx);
  const { name, id } = packName(ctx, input.name);
  const size = input.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_OBJECT_BYTES) {
    throw new BadInputError('BAD_SIZE', `size: a whole number of bytes up to ${MAX_OBJECT_BYTES}`);
  }
  if (input.sha256 !== id) {
    throw new BadInputError('BAD_PACK_NAME', `the pack ${name} is not named by the SHA-256 of its bytes`, {
      hint: 'name a pack by the lowercase hex SHA-256 of its bytes',
    });
  }
  const region = ctx.services.regions.find((r) => r.name === vault.region);
  const signer = region && (await uploadSigner(region.url));
  if (!signer) throw directUploadNotOffered(`the vault's region cannot sign upload URLs`);
  // An object already there goes through the ordinary PUT, which tells same bytes (a
  // retry) from other bytes; signing would only get the agent a refusal from storage.
  if ((await primaryRepo(ctx).head(name)) !== null) throw directUploadUnavailable(`${name} exists`);
  await checkQuota(ctx.services.catalog, vault, size);
  const now = ctx.services.now();
  const key = regionKey(vault.id, server.id, name);
  const signed = await signer.sign(key, size, id, DIRECT_UPLOAD_TTL_MS, now);
  if (!signed) throw directUploadNotOffered(`the vault's region cannot sign upload URLs`);
  const ticket: httpProtocol.UploadTicket = {
    method: 'PUT',
    url: signed.url,
    headers: signed.headers,
    expiresAt: new Date(signed.expiresAt).toISOString(),
  };
  return { body: ticket };
}

async function completeUpload(ctx: RequestContext): Promise<RouteResult> {
  const { server } = agentOf(ctx);
  const { name, id } = packName(ctx, body(ctx).name);
  const size = await verifyUploadedPack(primaryRepo(ctx), name, id);
  await recordUploadedPack(ctx.services.catalog, server.id, id, size, ctx.services.now());
  const answer: httpProtocol.PutAnswer = { name, size, created: true };
  return { status: 201, body: answer };
}

const AGENT = { auth: 'agent', tag: 'agent data', method: 'POST', bodyLimit: 8 * 1024 } as const;
const PACK_NAME: Schema = { type: 'string', pattern: '^data/[0-9a-f]{2}/[0-9a-f]{64}$' };

export const DIRECT_ROUTES: readonly Route[] = [
  {
    ...AGENT,
    path: UPLOADS_PATH,
    summary:
      'A short-lived URL that creates one pack object straight in the vault region (Azure SAS, S3 presigned PUT): send the bytes there with the headers given, then call complete. 409 DIRECT_UPLOAD_NOT_OFFERED for regions that cannot sign URLs (file regions: use the ordinary PUT for every object), 409 DIRECT_UPLOAD_UNAVAILABLE for non-pack names or an existing object (use the ordinary PUT for that one). 507 QUOTA_EXCEEDED when the vault is full.',
    requestBody: {
      type: 'object',
      required: ['name', 'size', 'sha256'],
      properties: {
        name: PACK_NAME,
        size: { type: 'integer' },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
    },
    response: {
      status: 200,
      schema: {
        type: 'object',
        required: ['method', 'url', 'headers', 'expiresAt'],
        properties: {
          method: { const: 'PUT' },
          url: { type: 'string' },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          expiresAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    handler: requestUpload,
  },
  {
    ...AGENT,
    path: UPLOADS_COMPLETE_PATH,
    summary:
      'After a direct upload: the vault checks the stored pack (size and SHA-256) and records it. 201 as an upload; 400 UPLOAD_MISMATCH (the object was deleted: upload again); 404 NOT_UPLOADED.',
    requestBody: { type: 'object', required: ['name'], properties: { name: PACK_NAME } },
    response: {
      status: 201,
      schema: {
        type: 'object',
        properties: { name: { type: 'string' }, size: { type: 'integer' }, created: { type: 'boolean' } },
      },
    },
    handler: completeUpload,
  },
];

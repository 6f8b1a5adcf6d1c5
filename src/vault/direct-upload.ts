import { createHash } from 'node:crypto';
import { BadInputError, ConflictError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import { azureCredentialFromEnv } from '../storage/azure/credentials.ts';
import { parseAzureLocation } from '../storage/azure/location.ts';
import type { BlobStore } from '../storage/index.ts';
import { s3ConnectionFromEnv } from '../storage/s3/credentials.ts';
import { parseS3Location } from '../storage/s3/location.ts';
import type { Catalog } from './catalog/index.ts';
import { repoPrefix } from './layout.ts';

// Direct upload: for object-storage regions the vault signs a short-lived URL that can
// create one pack object and nothing else, so pack bytes go from the agent straight to
// storage; the agent then asks the vault to complete, and the vault checks the object
// (size, and its SHA-256, which is its name) before recording it. Only recorded packs
// that are in storage can be committed (point-routes), so an unchecked upload never
// reaches a recovery point.

/** How long a signed upload URL works: enough to send a pack, short enough to be useless later. */
export const DIRECT_UPLOAD_TTL_MS = 5 * 60_000;

/** What the agent sends to storage: PUT the bytes to url with these headers. */
export interface SignedUpload {
  url: string;
  headers: Record<string, string>;
  expiresAt: number;
}

/** Signs uploads into one region's storage (keys relative to the region, i.e. with the vault's prefix). */
export interface UploadSigner {
  sign(
    key: string,
    size: number,
    sha256: string,
    ttlMs: number,
    now: number,
  ): Promise<SignedUpload | undefined>;
}

const signers = new Map<string, Promise<UploadSigner | undefined>>();

/**
 * The signer of a region URL, or undefined for storage that cannot sign (file regions,
 * an Azure region reached with a SAS instead of a key). One per URL and process; the
 * SDKs load on first use, as the region stores do.
 */
export function uploadSigner(regionUrl: string): Promise<UploadSigner | undefined> {
  let known = signers.get(regionUrl);
  if (!known) {
    known = openSigner(regionUrl);
    known.catch(() => signers.delete(regionUrl));
    signers.set(regionUrl, known);
  }
  return known;
}

async function openSigner(url: string): Promise<UploadSigner | undefined> {
  if (url.startsWith('azure:')) {
    const where = parseAzureLocation(url);
    const credential = azureCredentialFromEnv(process.env, where.account);
    if (credential.kind !== 'key') return undefined;
    const { AzureBlobStore } = await import('../storage/azure/store.ts');
    const store = new AzureBlobStore(where, credential);
    return { sign: async (key, _size, _sha256, ttlMs, now) => store.presignPut(key, ttlMs, now) };
  }
  if (url.startsWith('s3:')) {
    const where = parseS3Location(url);
    const { S3BlobStore } = await import('../storage/s3/store.ts');
    const store = new S3BlobStore(where, s3ConnectionFromEnv(where, process.env));
    return { sign: (key, size, sha256, ttlMs, now) => store.presignPut(key, size, sha256, ttlMs, now) };
  }
  return undefined;
}

/** For every object of this region: the agent stops asking. */
export function directUploadNotOffered(why: string): ConflictError {
  return new ConflictError('DIRECT_UPLOAD_NOT_OFFERED', `direct upload not offered here: ${why}`, {
    hint: 'upload objects through the vault (PUT /v1/agent/repo/objects/<name>)',
  });
}

export function directUploadUnavailable(why: string): ConflictError {
  return new ConflictError('DIRECT_UPLOAD_UNAVAILABLE', `direct upload not available here: ${why}`, {
    hint: 'upload the object through the vault (PUT /v1/agent/repo/objects/<name>)',
  });
}

/** The key of a repository object within its region. */
export function regionKey(vaultId: string, serverId: string, name: string): string {
  return `${repoPrefix(vaultId, serverId)}${name}`;
}

/**
 * Checks that the object `name` in `repo` (the primary region's copy) is exactly the pack
 * whose SHA-256 is `id`: its size (when the agent said one) and its hash. A missing object
 * is NOT_UPLOADED; a wrong one is deleted (nobody else writes a pack under its hash, so
 * other bytes there are a damaged or tampered upload) and refused, UPLOAD_MISMATCH.
 * Returns the size.
 */
export async function verifyUploadedPack(repo: BlobStore, name: string, id: string): Promise<number> {
  const info = await repo.head(name);
  if (info === null) {
    throw new NotFoundError('NOT_UPLOADED', `${name} is not in storage: the upload did not arrive`, {
      hint: 'upload it again (ask for a new upload URL)',
    });
  }
  const bytes = await repo.get(name);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 === id && bytes.length === info.size) return bytes.length;
  await repo.delete(name);
  throw new BadInputError(
    'UPLOAD_MISMATCH',
    `the object uploaded as ${name} is not that pack (its SHA-256 differs); it was deleted`,
    { hint: 'the upload was damaged or replaced on the way; upload the pack again' },
  );
}

/** Records a verified pack unless a live row has it (a repeated complete is not an error). */
export async function recordUploadedPack(
  catalog: Catalog,
  serverId: string,
  id: string,
  size: number,
  now: number,
): Promise<void> {
  const known = await catalog.findPack(serverId, id);
  if (known !== undefined && known.deletedAt === null) return;
  try {
    await catalog.recordPack({ serverId, name: id, size, createdAt: now });
  } catch (err) {
    if (!(isOffsiteError(err) && err.code === 'PACK_EXISTS')) throw err;
  }
}

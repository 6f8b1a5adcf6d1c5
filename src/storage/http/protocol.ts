// The wire protocol of the vault's agent data API, shared by the server's routes
// (src/server/data-routes.ts) and HttpBlobStore, so both ends agree by construction.
//
//   PUT    /v1/agent/repo/objects/<name>    create-only upload; Content-Length and
//                                           x-offsite-sha256 required; 201 stored,
//                                           200 {created:false} identical bytes were there
//   GET    /v1/agent/repo/objects/<name>    the bytes; Range: bytes=START-END gives 206
//   HEAD   /v1/agent/repo/objects/<name>    200 with Content-Length, or 404
//   DELETE /v1/agent/repo/objects/<name>    sessions/... only; anything else 403
//   GET    /v1/agent/repo/objects?prefix=P&after=C   one page of the listing, JSON
//   DELETE /v1/agent/repo/keys/<id>         retire one of the agent's key slots (a passphrase
//                                           change); the vault keeps a copy out of its reach
//   GET, HEAD /v1/agent/servers/<server>/repo/objects[/<name>]   another server's repository
//                                           of the same vault, read-only (restore elsewhere):
//                                           config and keys/ for any agent of the vault, the
//                                           rest only with x-offsite-restore-access
//
// Object names travel unescaped in the path: every valid name (./names.ts) is made of
// URL-safe characters, and a name is validated on both ends before any I/O.

export const OBJECTS_PATH = '/v1/agent/repo/objects';

/** Hex SHA-256 of the request body of a PUT. */
export const SHA256_HEADER = 'x-offsite-sha256';

/** The largest object the vault accepts (packs are ~16 MiB; a large index file fits too). */
export const MAX_OBJECT_BYTES = 128 * 1024 * 1024;

/** Objects per page of a listing. */
export const LIST_PAGE_SIZE = 10_000;

/** Only these objects may an agent delete: its backup sessions (docs/design.md §11). */
export const AGENT_DELETABLE_PREFIX = 'sessions/';

/** One page of a listing: `next` is an opaque cursor for `after`, null on the last page. */
export interface ListPage {
  objects: { name: string; size: number }[];
  next: string | null;
}

/** The body of a PUT answer. */
export interface PutAnswer {
  name: string;
  size: number;
  /** false: an object with the same bytes was already stored (nothing was written). */
  created: boolean;
}

/** The path of an object; `name` must already be valid. */
export function objectPath(name: string, objectsPath = OBJECTS_PATH): string {
  return `${objectsPath}/${name}`;
}

/** Where an agent reads another server's repository of its vault (by name or id). */
export function serverObjectsPath(server: string): string {
  return `/v1/agent/servers/${encodeURIComponent(server)}/repo/objects`;
}

/** Key slots are retired here, by id, not deleted through the objects path. */
export const KEYS_PATH = '/v1/agent/repo/keys';

/** The key slot id of an object name keys/<64 hex>, else undefined. */
export function keySlotId(name: string): string | undefined {
  return /^keys\/([0-9a-f]{64})$/.exec(name)?.[1];
}

/**
 * The restore access T of a repository (hex of 32 bytes derived from its master key) is
 * sent in this header to read that repository from another server of the vault. The
 * repository holds only SHA-256(T), in the object below; the vault never learns the
 * passphrase or the key.
 */
export const RESTORE_ACCESS_HEADER = 'x-offsite-restore-access';

/** Plain JSON `RestoreAccessRecord` at the root of each vault repository. */
export const RESTORE_ACCESS_OBJECT = 'restore-access';

export interface RestoreAccessRecord {
  version: 1;
  /** Hex SHA-256 of the 32 bytes of T. */
  sha256: string;
}

/** What any agent of the vault may read of another server's repository without T: what opens it. */
export function openToVault(name: string): boolean {
  return name === 'config' || name.startsWith('keys/');
}

/** `bytes=START-END` for `length` ≥ 1 bytes from `offset` (END is inclusive). */
export function rangeHeader(offset: number, length: number): string {
  return `bytes=${offset}-${offset + length - 1}`;
}

export function encodeRestoreAccess(sha256: string): Buffer {
  const record: RestoreAccessRecord = { version: 1, sha256 };
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

/** The hex SHA-256 a restore-access object holds, or undefined when it is not one. */
export function decodeRestoreAccess(bytes: Buffer): string | undefined {
  try {
    const record = JSON.parse(bytes.toString('utf8')) as Partial<RestoreAccessRecord>;
    if (record.version === 1 && typeof record.sha256 === 'string' && /^[0-9a-f]{64}$/.test(record.sha256))
      return record.sha256;
  } catch {
    // not JSON: not a record
  }
  return undefined;
}

// Direct upload of packs to object storage (docs/design.md §17):
//   POST /v1/agent/repo/uploads {name, size, sha256}   a signed URL that creates that one
//        pack object in the region (UploadTicket), or 409 DIRECT_UPLOAD_UNAVAILABLE: use PUT
//        for this object, or 409 DIRECT_UPLOAD_NOT_OFFERED: the region cannot sign URLs
//        (a file region), so use PUT for every object from now on
//   POST /v1/agent/repo/uploads/complete {name}        the vault checks the stored object
//        (size and SHA-256) and records the pack; 201 PutAnswer, 400 UPLOAD_MISMATCH
//        (the object was deleted), 404 NOT_UPLOADED

export const UPLOADS_PATH = '/v1/agent/repo/uploads';
export const UPLOADS_COMPLETE_PATH = '/v1/agent/repo/uploads/complete';

export interface UploadRequest {
  name: string;
  size: number;
  /** Hex SHA-256 of the bytes (a pack's name is this hash). */
  sha256: string;
}

/** Where to PUT the bytes: straight to the storage service, with exactly these headers. */
export interface UploadTicket {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  /** ISO time after which the URL no longer works. */
  expiresAt: string;
}

/** The code of the refusal that sends the agent back to the ordinary PUT. */
export const DIRECT_UPLOAD_UNAVAILABLE = 'DIRECT_UPLOAD_UNAVAILABLE';
/** The same for every object: the vault's region cannot sign upload URLs at all. */
export const DIRECT_UPLOAD_NOT_OFFERED = 'DIRECT_UPLOAD_NOT_OFFERED';

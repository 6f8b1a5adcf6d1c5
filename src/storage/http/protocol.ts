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
export function objectPath(name: string): string {
  return `${OBJECTS_PATH}/${name}`;
}

/** `bytes=START-END` for `length` ≥ 1 bytes from `offset` (END is inclusive). */
export function rangeHeader(offset: number, length: number): string {
  return `bytes=${offset}-${offset + length - 1}`;
}

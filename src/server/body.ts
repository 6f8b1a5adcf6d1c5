import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BadInputError, TransientError } from '../errors/index.ts';

// Reads a request's JSON body under the route's size limit, or an upload's raw bytes.

/**
 * Past the limit we keep reading (and discarding) up to this much more, so a client that
 * sends a slightly-too-large body gets its 413 instead of a reset connection. Beyond it
 * the connection is closed.
 */
export const DRAIN_LIMIT = 1024 * 1024;

export class BodyTooLargeError extends BadInputError {
  /** true when the rest of the body was not drained: the connection must close. */
  readonly undrained: boolean;
  constructor(limit: number, undrained: boolean) {
    super('BODY_TOO_LARGE', `the request body is larger than this endpoint accepts (${limit} bytes)`, {
      hint: 'send a smaller body',
    });
    this.undrained = undrained;
  }
}

function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The raw bytes, at most `limit`; BodyTooLargeError (413) past it. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > limit + DRAIN_LIMIT) throw new BodyTooLargeError(limit, true);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit + DRAIN_LIMIT) throw new BodyTooLargeError(limit, true);
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new BodyTooLargeError(limit, false);
  return Buffer.concat(chunks, size);
}

function isJsonType(request: IncomingMessage): boolean {
  const type = request.headers['content-type'];
  return type === undefined || /^application\/json\s*(;|$)/i.test(type);
}

/** undefined for an empty body; otherwise parsed JSON, or BAD_JSON (400). */
export async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(request, limit);
  if (raw.length === 0) return undefined;
  if (!isJsonType(request)) {
    throw new BadInputError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json', {
      hint: 'send Content-Type: application/json',
    });
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadInputError('BAD_JSON', 'the request body is not valid JSON', {
      hint: 'send one JSON object, UTF-8 encoded',
    });
  }
}

/**
 * The Content-Length of an upload, checked before any of it is read: LENGTH_REQUIRED
 * without one (a chunked upload could not be refused before it was all read), 413 past
 * `limit` with the connection closed, so a too-large body is never read.
 */
export function uploadLength(request: IncomingMessage, limit: number): number {
  const declared = declaredLength(request);
  if (declared === undefined) {
    throw new BadInputError('LENGTH_REQUIRED', 'an upload needs a Content-Length header', {
      hint: 'send the body with its length, not chunked',
    });
  }
  if (declared > limit) throw new BodyTooLargeError(limit, true);
  return declared;
}

export interface Upload {
  bytes: Buffer;
  /** Hex SHA-256 of bytes, computed while they arrived. */
  sha256: string;
}

/**
 * Reads exactly `length` bytes (from uploadLength) and hashes them on the way. A
 * connection that ends early is UPLOAD_ABORTED (transient): the caller must store nothing.
 */
export async function readUpload(request: IncomingMessage, length: number): Promise<Upload> {
  const bytes = Buffer.allocUnsafe(length);
  const hash = createHash('sha256');
  let received = 0;
  const cutOff = (cause?: unknown) =>
    new TransientError('UPLOAD_ABORTED', `the upload was cut off after ${received} of ${length} bytes`, {
      hint: 'send it again',
      cause,
    });
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      if (received + chunk.length > length) throw new BodyTooLargeError(length, true);
      chunk.copy(bytes, received);
      hash.update(chunk);
      received += chunk.length;
    }
  } catch (err) {
    throw err instanceof BodyTooLargeError ? err : cutOff(err);
  }
  if (received !== length) throw cutOff();
  return { bytes, sha256: hash.digest('hex') };
}

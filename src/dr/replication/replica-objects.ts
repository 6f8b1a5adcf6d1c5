import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BadInputError, ConflictError, isOffsiteError, NotFoundError } from '../../errors/index.ts';
import { type BlobStore, httpProtocol, type ListedObject, validatePrefix } from '../../storage/index.ts';
import { checkContent, checkDeletableName, checkWritableName } from './names.ts';

// The object API of one workload's replica repository, in the vault's wire format
// (src/storage/http/protocol.ts): put once with a SHA-256 check, get (ranges), head,
// paged list, delete of the sender's own sessions only.

const { LIST_PAGE_SIZE, MAX_OBJECT_BYTES, SHA256_HEADER } = httpProtocol;

export interface Answer {
  status: number;
  body: Buffer | string | object;
  headers?: Record<string, string | number>;
}

export async function readBody(req: IncomingMessage, limit = MAX_OBJECT_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(declared) || declared < 0) {
    throw new BadInputError('LENGTH_REQUIRED', 'an upload needs a Content-Length');
  }
  if (declared > limit) {
    throw new BadInputError(
      'OBJECT_TOO_LARGE',
      `${declared} bytes is more than the ${limit} an object may have`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > declared)
      throw new BadInputError('BODY_TOO_LARGE', 'the body is longer than its Content-Length');
    chunks.push(chunk);
  }
  if (size !== declared) throw new BadInputError('BODY_CUT', 'the body ended before its Content-Length');
  return Buffer.concat(chunks, size);
}

/** Create-only: the same bytes again answer 200 {created:false}, so a retried upload succeeds. */
export async function putObject(store: BlobStore, name: string, req: IncomingMessage): Promise<Answer> {
  checkWritableName(name);
  const announced = req.headers[SHA256_HEADER];
  if (typeof announced !== 'string') {
    throw new BadInputError('SHA256_REQUIRED', `an upload needs the ${SHA256_HEADER} header`);
  }
  const body = await readBody(req);
  const sha256 = checkContent(name, body, announced.toLowerCase());
  try {
    await store.put(name, body);
    return { status: 201, body: { name, size: body.length, created: true } };
  } catch (err) {
    if (!(err instanceof ConflictError && err.code === 'OBJECT_EXISTS')) throw err;
  }
  const stored = await store.get(name);
  if (createHash('sha256').update(stored).digest('hex') !== sha256) {
    throw new ConflictError('OBJECT_EXISTS', `${name} already exists with other bytes`, {
      hint: 'objects are never overwritten',
    });
  }
  return { status: 200, body: { name, size: body.length, created: false } };
}

const RANGE = /^bytes=(\d{1,15})-(\d{1,15})$/;

export async function getObject(
  store: BlobStore,
  name: string,
  rangeHeader: string | undefined,
): Promise<Answer> {
  if (rangeHeader === undefined) return { status: 200, body: await read(store, name) };
  const match = RANGE.exec(rangeHeader.trim());
  const offset = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < offset)
    throw new BadInputError('BAD_RANGE', 'the Range header must be bytes=START-END');
  const info = await store.head(name);
  if (info === null) throw notFound(name);
  if (end >= info.size) {
    throw new BadInputError('RANGE_NOT_SATISFIABLE', `range ${offset}-${end} is past the end of ${name}`);
  }
  return {
    status: 206,
    body: await read(store, name, { offset, length: end - offset + 1 }),
    headers: { 'content-range': `bytes ${offset}-${end}/${info.size}` },
  };
}

async function read(
  store: BlobStore,
  name: string,
  range?: { offset: number; length: number },
): Promise<Buffer> {
  try {
    return await store.get(name, range);
  } catch (err) {
    if (isOffsiteError(err) && err.code === 'OBJECT_NOT_FOUND') throw notFound(name);
    throw err;
  }
}

function notFound(name: string): NotFoundError {
  return new NotFoundError('OBJECT_NOT_FOUND', `no object named ${name} in this replica`);
}

export async function headObject(store: BlobStore, name: string): Promise<Answer> {
  const info = await store.head(name);
  if (info === null) return { status: 404, body: '' };
  return { status: 200, body: '', headers: { 'content-length': info.size } };
}

export async function deleteObject(store: BlobStore, name: string): Promise<Answer> {
  checkDeletableName(name);
  await store.delete(name);
  return { status: 200, body: { deleted: name } };
}

/** One page, sorted by name, of the objects after `after`; the listing is the replica's own folder. */
export async function listObjects(store: BlobStore, query: URLSearchParams): Promise<Answer> {
  const prefix = validatePrefix(query.get('prefix') ?? '');
  const after = query.get('after') ?? '';
  const all: ListedObject[] = [];
  for await (const object of store.list(prefix)) if (object.name > after) all.push(object);
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const objects = all.slice(0, LIST_PAGE_SIZE).map(({ name, size }) => ({ name, size }));
  const next = all.length > LIST_PAGE_SIZE ? objects.at(-1)!.name : null;
  return { status: 200, body: { objects, next } };
}

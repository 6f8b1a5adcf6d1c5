// For tests only: runs s3rver (npm package `s3rver`, 3.7.x) as a child process of the
// test, with three defects fixed, each a place where it departs
// from what S3 guarantees and what the BlobStore contract relies on. Everything else
// (routing, path and virtual-host style, XML, errors, paging) is s3rver's.
//
// 1. PutObject writes the body straight into the object's final file, so a listing or
//    GET during the upload sees a partial object (S3: "never adds partial objects").
//    Fixed: the body goes to a temporary file in a folder beside s3rver's directory (not
//    inside a bucket: s3rver's listing stats every file it reads from a folder, and a
//    temporary file renamed away in between made it answer 500), and is renamed into
//    place when complete.
// 2. A ranged GET of an empty object answers 206 with Content-Length 1 and no body, and
//    the client waits for a byte that never comes. Fixed: it is InvalidRange (416), as
//    S3 answers.
// 3. SigV4 signatures are not checked (only the access key id is), so a wrong secret
//    key would pass. Fixed: every signed request (Authorization header or presigned
//    URL) is checked by ./sigv4-check.ts before s3rver sees it; a mismatch is 403
//    SignatureDoesNotMatch, as S3 answers.
//
// Not fixed, on purpose, because the store must cope with it: s3rver ignores
// If-None-Match on PutObject and overwrites (see CreateOnlyMode in ./location.ts).
//
// Usage: node s3rver-main.ts DIRECTORY SERVICE_ENDPOINT [CERT_FILE KEY_FILE] (HTTPS with
// them); prints "listening on ADDRESS:PORT".
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkSigV4 } from './sigv4-check.ts';

const require = createRequire(import.meta.url);

interface StoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, unknown>;
  range?: { start: number; end: number };
}
interface Store {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<StoredObject | null>;
}
type StoreClass = new (directory: string) => Store;
interface Server {
  store: Store;
  context: { store: Store };
  run(): Promise<{ address: string; port: number }>;
}

const FilesystemStore = require('s3rver/lib/stores/filesystem') as StoreClass;
const S3Object = require('s3rver/lib/models/object') as new (
  bucket: string,
  key: string,
  content: null,
  metadata: Record<string, unknown>,
) => StoredObject;
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => Server;
const S3Error = require('s3rver/lib/models/error') as new (
  code: string,
  message: string,
  detail?: Record<string, string>,
) => Error;
const AWSAccount = require('s3rver/lib/models/account') as {
  registry: Map<string, { accessKeys: Map<string, string> }>;
};

interface KoaContext {
  method: string;
  req: { url?: string; headers: IncomingHttpHeaders };
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** Refuses a request whose SigV4 signature does not match its key's secret (fix 3). */
const verifySignature: Middleware = async (ctx, next) => {
  const check = checkSigV4(
    { method: ctx.method, url: ctx.req.url ?? '/', headers: ctx.req.headers },
    (keyId) => AWSAccount.registry.get(keyId)?.accessKeys.get(keyId),
  );
  if (check.kind === 'malformed') throw new S3Error('AccessDenied', `malformed signature: ${check.reason}`);
  if (check.kind === 'mismatch') {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your key and signing method.',
      { AWSAccessKeyId: check.accessKeyId },
    );
  }
  await next();
};

class AtomicStore extends FilesystemStore {
  readonly uploads: string;

  constructor(directory: string) {
    super(directory);
    this.uploads = `${directory.replace(/\/+$/, '')}.uploads`;
  }

  async putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    await mkdir(this.uploads, { recursive: true });
    const temp = `${this.uploads}/${randomBytes(8).toString('hex')}.tmp`;
    try {
      const hash = createHash('md5');
      let size = 0;
      const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(source, measure, createWriteStream(temp));
      const md5 = hash.digest('hex');
      await this.putMetadata(object.bucket, object.key, object.metadata, md5);
      await rename(temp, objectPath);
      return { size, md5 };
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  override async getObject(bucket: string, key: string, options?: { start?: number; end?: number }) {
    if (options?.start !== undefined) {
      const size = await stat(this.getResourcePath(bucket, key, 'object')).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === 0) {
        const empty = new S3Object(bucket, key, null, await this.getMetadata(bucket, key));
        empty.range = { start: options.start, end: options.end ?? 0 };
        return empty;
      }
    }
    return super.getObject(bucket, key, options);
  }
}

const [directory, serviceEndpoint, certFile, keyFile] = process.argv.slice(2);
const tls = certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : {};
const server = new S3rver({
  directory,
  serviceEndpoint,
  address: '127.0.0.1',
  port: 0,
  silent: true,
  ...tls,
});
server.store = server.context.store = new AtomicStore(directory!);
// Koa composes its middleware when it starts listening, so this runs before s3rver's.
(server as unknown as { middleware: Middleware[] }).middleware.unshift(verifySignature);
const { address, port } = await server.run();
console.log(`listening on ${address}:${port}`);

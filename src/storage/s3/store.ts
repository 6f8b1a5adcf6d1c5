import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { readBody, totalOfContentRange } from '../cloud/body.ts';
import {
  type FailureContext,
  type Operation,
  objectExists,
  objectNotFound,
  rangePastEnd,
} from '../cloud/errors.ts';
import type { Env } from '../cloud/secrets.ts';
import { checkRangeFits, validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { type S3Connection, s3ConnectionFromEnv } from './credentials.ts';
import { mapS3Error, s3Failure } from './errors.ts';
import { KeyLocks } from './key-locks.ts';
import { parseS3Location, S3_CREDENTIAL_VARIABLES, type S3Location } from './location.ts';

export interface S3StoreOptions {
  /** Longest a single request may take before it is abandoned as transient (default 10 min). */
  requestTimeoutMs?: number;
  /** Keys per list request (default 1000, the service's maximum). */
  listPageSize?: number;
  /** Agents for the connections (a private CA, a proxy, a test's name resolution). */
  httpAgent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

/** Shared by every store of the process, so two stores over one bucket serialise too. */
const PUT_LOCKS = new KeyLocks();

/**
 * A BlobStore over one S3 bucket (AWS or any S3-compatible service), under an optional
 * key prefix. One PutObject per object (the contract's objects live in memory, far below
 * S3's 5 GiB single-put limit), so a reader sees no object or the whole one.
 *
 * Never overwriting depends on the service (see CreateOnlyMode in ./location.ts). With
 * If-None-Match: * honoured, the service refuses an existing key atomically. Without it
 * ("head", or "both" on a service that ignores the header, like s3rver), put checks
 * with HEAD and then PUTs. Puts of one key within this process are serialised, so they
 * cannot race each other; but two processes (or two hosts) putting the same key at the
 * same moment can both see it missing, and the later PUT replaces the earlier object.
 * For content-addressed names both wrote the same bytes and nothing is lost; for the
 * names that are not (a repository's `config` and `locks/prune`, the vault's timed
 * records), a service that honours If-None-Match is needed for the guarantee to hold
 * between processes, and so for several vault servers sharing one region.
 *
 * Retries are left to RetryStore (the SDK's own are off), so one layer decides.
 */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly #where: S3Location;
  readonly #client: S3Client;
  readonly #pageSize: number;

  constructor(where: S3Location, connection: S3Connection, options: S3StoreOptions = {}) {
    this.#where = where;
    this.location = where.display;
    this.#pageSize = options.listPageSize ?? 1000;
    this.#client = new S3Client({
      region: connection.region,
      ...(where.endpoint === undefined ? { followRegionRedirects: true } : { endpoint: where.endpoint }),
      forcePathStyle: where.style === 'path',
      ...(connection.credentials === undefined ? {} : { credentials: connection.credentials }),
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: 30_000,
        requestTimeout: options.requestTimeoutMs ?? 10 * 60_000,
        throwOnRequestTimeout: true,
        ...(options.httpAgent === undefined ? {} : { httpAgent: options.httpAgent }),
        ...(options.httpsAgent === undefined ? {} : { httpsAgent: options.httpsAgent }),
      },
    });
  }

  /** Opens s3://BUCKET[/PREFIX][?...] with credentials (and the default region) from `env`. */
  static fromUrl(url: string, env: Env = process.env, options?: S3StoreOptions): S3BlobStore {
    const where = parseS3Location(url);
    return new S3BlobStore(where, s3ConnectionFromEnv(where, env), options);
  }

  /** The longest object name this store takes (the key prefix uses part of 1024). */
  get maxNameLength(): number {
    return this.#where.prefix.maxNameLength;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const key = this.#where.prefix.key(name);
    const mode = this.#where.createOnly;
    try {
      if (mode === 'header') return await this.#putObject(key, data, true);
      const lockKey = `${this.#where.endpoint ?? 'aws'} ${this.#where.bucket} ${key}`;
      await PUT_LOCKS.run(lockKey, async () => {
        if ((await this.#size(key)) !== undefined) throw objectExists(name, this.location);
        await this.#putObject(key, data, mode === 'both');
      });
    } catch (err) {
      throw this.#error(err, 'writing', name);
    }
  }

  /**
   * A presigned PutObject of `name` valid `ttlMs` from `now`, with Content-Length, the
   * SHA-256 checksum (x-amz-checksum-sha256, which S3 checks against the body) and, where
   * the service honours it, If-None-Match: * signed in: the holder can store exactly
   * those bytes under that key and nothing else. The headers returned must be sent.
   */
  async presignPut(name: string, size: number, sha256Hex: string, ttlMs: number, now = Date.now()) {
    const key = this.#where.prefix.key(name);
    const url = await this.#objectUrl(key);
    const headers: Record<string, string> = {
      'content-length': String(size),
      'x-amz-checksum-sha256': Buffer.from(sha256Hex, 'hex').toString('base64'),
      ...(this.#where.createOnly === 'head' ? {} : { 'if-none-match': '*' }),
    };
    const signer = new SignatureV4({
      service: 's3',
      region: this.#client.config.region,
      credentials: this.#client.config.credentials,
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const signed = await signer.presign(
      {
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: {},
        headers: { ...headers, host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      {
        expiresIn: Math.max(1, Math.floor(ttlMs / 1000)),
        signingDate: new Date(now),
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      },
    );
    const query = new URLSearchParams(signed.query as Record<string, string>);
    return { url: `${url.origin}${url.pathname}?${query}`, headers, expiresAt: now + ttlMs };
  }

  /** The URL of a key as the client addresses it (path or virtual-host style). */
  async #objectUrl(key: string): Promise<URL> {
    const bucket = this.#where.bucket;
    if (this.#where.endpoint !== undefined) {
      const endpoint = new URL(this.#where.endpoint);
      const base = endpoint.pathname.replace(/\/+$/, '');
      if (this.#where.style === 'path') return new URL(`${endpoint.origin}${base}/${bucket}/${key}`);
      return new URL(`${endpoint.protocol}//${bucket}.${endpoint.host}${base}/${key}`);
    }
    const region = await this.#client.config.region();
    const host = `s3.${region}.amazonaws.com`;
    if (this.#where.style === 'path') return new URL(`https://${host}/${bucket}/${key}`);
    return new URL(`https://${bucket}.${host}/${key}`);
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    const key = this.#where.prefix.key(name);
    validateRange(name, range);
    try {
      if (range?.length === 0) {
        const size = await this.#size(key);
        if (size === undefined) throw objectNotFound(name, this.location);
        checkRangeFits(name, range, size);
        return Buffer.alloc(0);
      }
      return await this.#download(key, name, range);
    } catch (err) {
      if (range !== undefined && s3Failure(err).status === 416) {
        throw rangePastEnd(name, range.offset, range.length, undefined);
      }
      throw this.#error(err, 'reading', name);
    }
  }

  async head(name: string): Promise<ObjectInfo | null> {
    const key = this.#where.prefix.key(name);
    try {
      const size = await this.#size(key);
      return size === undefined ? null : { size };
    } catch (err) {
      throw this.#error(err, 'reading', name);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const keyPrefix = this.#where.prefix.listKey(prefix);
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#where.bucket,
            Prefix: keyPrefix,
            MaxKeys: this.#pageSize,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw this.#error(err, 'listing', prefix);
      }
      for (const item of page.Contents ?? []) {
        const name = item.Key === undefined ? undefined : this.#where.prefix.nameOf(item.Key);
        if (name !== undefined) yield { name, size: item.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(name: string): Promise<void> {
    const key = this.#where.prefix.key(name);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#where.bucket, Key: key }));
    } catch (err) {
      // S3 deletes a missing key without complaint; a missing bucket holds no key either.
      if (s3Failure(err).status !== 404) throw this.#error(err, 'deleting', name);
    }
  }

  async #putObject(key: string, data: Uint8Array, conditional: boolean): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#where.bucket,
        Key: key,
        Body: data,
        ContentLength: data.byteLength,
        ...(conditional ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  /** The object's size, or undefined when there is no such key. */
  async #size(key: string): Promise<number | undefined> {
    try {
      const answer = await this.#client.send(new HeadObjectCommand({ Bucket: this.#where.bucket, Key: key }));
      return answer.ContentLength ?? 0;
    } catch (err) {
      if (s3Failure(err).status === 404) return undefined;
      throw err;
    }
  }

  async #download(key: string, name: string, range: ByteRange | undefined): Promise<Buffer> {
    const answer = await this.#client.send(
      new GetObjectCommand({
        Bucket: this.#where.bucket,
        Key: key,
        ...(range === undefined ? {} : { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
      }),
    );
    const what = { name, location: this.location };
    const body = await readBody(
      answer.Body as AsyncIterable<unknown> | undefined,
      answer.ContentLength ?? 0,
      what,
    );
    if (range === undefined) return body;
    const total = totalOfContentRange(answer.ContentRange);
    if (total !== undefined) {
      checkRangeFits(name, range, total);
      return body;
    }
    // No Content-Range: the service ignored the Range header and sent the whole object.
    checkRangeFits(name, range, body.length);
    return Buffer.from(body.subarray(range.offset, range.offset + range.length));
  }

  #error(err: unknown, operation: Operation, name: string) {
    const ctx: FailureContext = {
      operation,
      name,
      location: this.location,
      credentialsHint: S3_CREDENTIAL_VARIABLES,
    };
    return mapS3Error(err, ctx);
  }
}

/** SHA-256 and its HMAC (with a secret) for the SigV4 signer, from node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

class NodeSha256 {
  readonly #secret: Uint8Array | string | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytesOf(secret);
    this.#hash = NodeSha256.#make(this.#secret);
  }

  static #make(secret: Uint8Array | string | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }

  update(data: SourceData, _encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    this.#hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = NodeSha256.#make(this.#secret);
  }
}

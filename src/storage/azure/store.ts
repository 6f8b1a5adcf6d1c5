import { randomBytes } from 'node:crypto';
import {
  AnonymousCredential,
  BlobSASPermissions,
  type BlockBlobClient,
  ContainerClient,
  generateBlobSASQueryParameters,
  SASProtocol,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { readBody, totalOfContentRange } from '../cloud/body.ts';
import { type FailureContext, type Operation, rangePastEnd } from '../cloud/errors.ts';
import type { Env } from '../cloud/secrets.ts';
import { checkRangeFits, validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { type AzureCredential, azureCredentialFromEnv } from './credentials.ts';
import { azureFailure, mapAzureError } from './errors.ts';
import { AZURE_CREDENTIAL_VARIABLES, type AzureLocation, parseAzureLocation } from './location.ts';

const MiB = 1024 * 1024;

/** A request that uploads one object straight to the storage service: PUT the bytes to url with headers. */
export interface SignedPut {
  url: string;
  headers: Record<string, string>;
  /** When the URL stops working (ms since the epoch). */
  expiresAt: number;
}

export interface AzureStoreOptions {
  /** Longest a single request may take before it is abandoned as transient (default 10 min). */
  requestTimeoutMs?: number;
  /** Objects up to this size go up in one Put Blob; larger ones as blocks (default 256 MiB). */
  maxSinglePutBytes?: number;
  /** Size of each block of a larger object (default 64 MiB). */
  blockBytes?: number;
  /** Blobs per list request (default 5000, the service's maximum). */
  listPageSize?: number;
}

/**
 * A BlobStore over one Azure Blob Storage container, under an optional key prefix.
 *
 * put is one Put Blob (or, above maxSinglePutBytes, blocks staged under random ids and
 * one Put Block List) sent with If-None-Match: *, so the service itself refuses an
 * existing name: create-only and atomic, also between processes and hosts. Uncommitted
 * blocks are never listed and Azure discards them after a week. Retries are left to
 * RetryStore (the SDK's own retry policy is off), so one layer decides.
 *
 * The container must exist; offsite never creates it (the credentials may rightly not
 * allow it). Credentials come from the environment (see ./credentials.ts), never from
 * the URL, and no error carries the SDK's error (it holds the signed request).
 */
export class AzureBlobStore implements BlobStore {
  readonly location: string;
  readonly #where: AzureLocation;
  readonly #container: ContainerClient;
  readonly #maxSinglePut: number;
  readonly #blockBytes: number;
  readonly #pageSize: number;
  readonly #sharedKey: StorageSharedKeyCredential | undefined;

  constructor(where: AzureLocation, credential: AzureCredential, options: AzureStoreOptions = {}) {
    this.#where = where;
    this.location = where.display;
    this.#maxSinglePut = options.maxSinglePutBytes ?? 256 * MiB;
    this.#blockBytes = options.blockBytes ?? 64 * MiB;
    this.#pageSize = options.listPageSize ?? 5000;
    const pipeline: StoragePipelineOptions = {
      retryOptions: { maxTries: 1, tryTimeoutInMs: options.requestTimeoutMs ?? 10 * 60_000 },
    };
    const containerUrl = `${where.serviceUrl}/${where.container}`;
    this.#sharedKey =
      credential.kind === 'key' ? new StorageSharedKeyCredential(where.account, credential.key) : undefined;
    this.#container =
      credential.kind === 'key'
        ? new ContainerClient(containerUrl, this.#sharedKey!, pipeline)
        : new ContainerClient(`${containerUrl}?${credential.token}`, new AnonymousCredential(), pipeline);
  }

  /**
   * A URL that lets its holder create the blob `name` and nothing else, until
   * `now + ttlMs`: a blob SAS with the create permission only (Azure refuses with it to
   * overwrite an existing blob), signed with the account key. Undefined when the store
   * has no key (a SAS credential cannot sign another SAS). The upload must send the
   * headers returned (If-None-Match: * makes the refusal of an existing name explicit).
   */
  presignPut(name: string, ttlMs: number, now = Date.now()): SignedPut | undefined {
    if (this.#sharedKey === undefined) return undefined;
    const blob = this.#blob(name);
    const expiresAt = now + ttlMs;
    const sas = generateBlobSASQueryParameters(
      {
        containerName: this.#where.container,
        blobName: this.#where.prefix.key(name),
        permissions: BlobSASPermissions.parse('c'),
        // A minute of slack for the service's clock, which need not agree with ours.
        startsOn: new Date(now - 60_000),
        expiresOn: new Date(expiresAt),
        protocol: blob.url.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
      },
      this.#sharedKey,
    ).toString();
    return {
      url: `${blob.url}?${sas}`,
      headers: { 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' },
      expiresAt,
    };
  }

  /** Opens azure://ACCOUNT/CONTAINER[/PREFIX][?endpoint=URL] with credentials from `env`. */
  static fromUrl(url: string, env: Env = process.env, options?: AzureStoreOptions): AzureBlobStore {
    const where = parseAzureLocation(url);
    return new AzureBlobStore(where, azureCredentialFromEnv(env, where.account), options);
  }

  /** The longest object name this store takes (the key prefix uses part of 1024). */
  get maxNameLength(): number {
    return this.#where.prefix.maxNameLength;
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    const blob = this.#blob(name);
    const conditions = { ifNoneMatch: '*' };
    try {
      if (data.byteLength <= this.#maxSinglePut) {
        await blob.upload(data, data.byteLength, { conditions });
      } else {
        await blob.commitBlockList(await this.#stageBlocks(blob, data), { conditions });
      }
    } catch (err) {
      throw this.#error(err, 'writing', name);
    }
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    const blob = this.#blob(name);
    validateRange(name, range);
    try {
      if (range?.length === 0) {
        const { contentLength = 0 } = await blob.getProperties();
        checkRangeFits(name, range, contentLength);
        return Buffer.alloc(0);
      }
      return await this.#download(blob, name, range);
    } catch (err) {
      if (range !== undefined && azureFailure(err).status === 416) {
        throw rangePastEnd(name, range.offset, range.length, undefined);
      }
      throw this.#error(err, 'reading', name);
    }
  }

  async head(name: string): Promise<ObjectInfo | null> {
    const blob = this.#blob(name);
    try {
      const { contentLength = 0 } = await blob.getProperties();
      return { size: contentLength };
    } catch (err) {
      const mapped = this.#error(err, 'reading', name);
      if (mapped.kind === 'not-found') return null;
      throw mapped;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    const keyPrefix = this.#where.prefix.listKey(prefix);
    const pages = this.#container
      .listBlobsFlat({ prefix: keyPrefix, includeMetadata: true })
      .byPage({ maxPageSize: this.#pageSize });
    try {
      for await (const page of pages) {
        for (const item of page.segment.blobItems) {
          // Accounts with a hierarchical namespace list folders as empty blobs.
          if (item.metadata?.hdi_isfolder === 'true') continue;
          const name = this.#where.prefix.nameOf(item.name);
          if (name !== undefined) yield { name, size: item.properties.contentLength ?? 0 };
        }
      }
    } catch (err) {
      throw this.#error(err, 'listing', prefix);
    }
  }

  async delete(name: string): Promise<void> {
    const blob = this.#blob(name);
    try {
      await blob.deleteIfExists({ deleteSnapshots: 'include' });
    } catch (err) {
      // A missing container holds no such blob either: deleting it is done.
      if (azureFailure(err).status !== 404) throw this.#error(err, 'deleting', name);
    }
  }

  /** Validates the name (before any I/O) and returns its blob. */
  #blob(name: string): BlockBlobClient {
    return this.#container.getBlockBlobClient(this.#where.prefix.key(name));
  }

  async #download(blob: BlockBlobClient, name: string, range: ByteRange | undefined): Promise<Buffer> {
    const answer = await blob.download(range?.offset ?? 0, range?.length);
    const expected = answer.contentLength ?? 0;
    if (range !== undefined) {
      const total = totalOfContentRange(answer.contentRange);
      if (total !== undefined) checkRangeFits(name, range, total);
      else if (expected < range.length) throw rangePastEnd(name, range.offset, range.length, undefined);
    }
    return await readBody(answer.readableStreamBody as AsyncIterable<unknown> | undefined, expected, {
      name,
      location: this.location,
    });
  }

  /** Stages `data` as blocks with random ids (so concurrent writers never mix blocks). */
  async #stageBlocks(blob: BlockBlobClient, data: Uint8Array): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; offset < data.byteLength; offset += this.#blockBytes) {
      const chunk = data.subarray(offset, Math.min(offset + this.#blockBytes, data.byteLength));
      const id = randomBytes(24).toString('base64');
      await blob.stageBlock(id, chunk, chunk.byteLength);
      ids.push(id);
    }
    return ids;
  }

  #error(err: unknown, operation: Operation, name: string) {
    const ctx: FailureContext = {
      operation,
      name,
      location: this.location,
      credentialsHint: AZURE_CREDENTIAL_VARIABLES,
    };
    return mapAzureError(err, ctx);
  }
}

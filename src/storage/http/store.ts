import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { BadInputError, ConflictError, NotFoundError } from '../../errors/index.ts';
import { validateObjectName, validatePrefix } from '../names.ts';
import { validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { isDirectCandidate, putDirect } from './direct.ts';
import { badAnswer, errorFromAnswer } from './errors.ts';
import { listPage } from './list.ts';
import {
  KEYS_PATH,
  keySlotId,
  MAX_OBJECT_BYTES,
  OBJECTS_PATH,
  objectPath,
  type PutAnswer,
  rangeHeader,
  SHA256_HEADER,
  serverObjectsPath,
} from './protocol.ts';
import { type Answer, type Connection, exchange } from './request.ts';

export interface HttpStoreOptions {
  /** The vault server, https://host:port (a base path is kept: https://host/offsite). */
  url: string;
  /** PEM of the vault's CA: the only certificate authority trusted for the server. */
  caPem: string;
  /** The agent's client certificate and private key (PEM), for mutual TLS. */
  certPem: string;
  keyPem: string;
  /** A request fails (transient) when its connection is silent this long; default 60 s. */
  timeoutMs?: number;
  /**
   * The https.Agent that pools connections (a proxy or a bandwidth limit can plug in
   * here). Default: a keep-alive agent of this store's own, released by close(). The TLS
   * options above are given on every request, so a caller's agent needs none.
   */
  agent?: Agent;
  /**
   * Read another registered server's repository of the same vault instead of the agent's
   * own (restore elsewhere): its name or id. The vault allows only reads there.
   */
  otherServer?: string;
  /**
   * Headers for every request, asked for at each one: the restore access of otherServer
   * is known only once its key is unlocked, through this very store.
   */
  headers?: () => Readonly<Record<string, string>>;
  /**
   * Packs go straight to the vault's object storage when the vault offers signed upload
   * URLs (it checks them before recording); otherwise, and for every other object,
   * through the vault. Default true.
   */
  directUpload?: boolean;
  /**
   * The https.Agent for direct uploads to https storage (e.g. the proxy's); default
   * Node's global agent. http storage (a test server) is reached without one.
   */
  storageAgent?: Agent;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_SOCKETS = 16;

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadInputError('BAD_VAULT_URL', `"${text}" is not a URL`, {
      hint: 'e.g. https://vault.example:8443',
    });
  }
  if (url.protocol !== 'https:')
    throw new BadInputError('BAD_VAULT_URL', 'the vault URL must start with https://');
  return url;
}

/**
 * The agent's repository in a vault, over the vault's agent data API (./protocol.ts):
 * the BlobStore an agent gives the engine. Names are relative to the agent's repository,
 * whose prefix in the region takes some of the 1024 characters a name may have.
 *
 * What differs from a local store, by the vault's rules: delete works only on
 * `sessions/...` objects and key slots `keys/<id>` (which the vault retires, keeping a
 * copy out of the agent's reach) and rejects anything else with AuthError FORBIDDEN
 * (agents cannot destroy history); put refuses objects over 128 MiB (OBJECT_TOO_LARGE) and may
 * fail with QuotaError QUOTA_EXCEEDED. Failures to get an answer are TransientError, so
 * wrap it in a RetryStore.
 */
export class HttpBlobStore implements BlobStore {
  readonly location: string;
  readonly #conn: Connection;
  readonly #ownAgent: Agent | undefined;
  readonly #objects: string;
  readonly #headers: () => Readonly<Record<string, string>>;
  readonly #own: boolean;
  /** Cleared for good when the vault says its region takes no direct uploads. */
  #direct: boolean;
  readonly #storageAgent: Agent | undefined;

  constructor(options: HttpStoreOptions) {
    const url = parseUrl(options.url);
    const basePath = url.pathname.replace(/\/+$/, '');
    const other = options.otherServer;
    this.location = url.origin + basePath + (other === undefined ? '' : ` (server ${other})`);
    this.#own = other === undefined;
    this.#objects = other === undefined ? OBJECTS_PATH : serverObjectsPath(other);
    this.#headers = options.headers ?? (() => ({}));
    this.#direct = (options.directUpload ?? true) && this.#own;
    this.#storageAgent = options.storageAgent;
    this.#ownAgent = options.agent ? undefined : new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
    this.#conn = {
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 443 : Number(url.port),
      basePath,
      location: this.location,
      ca: options.caPem,
      cert: options.certPem,
      key: options.keyPem,
      agent: options.agent ?? this.#ownAgent!,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
  }

  /** Closes the pooled connections of the store's own agent (a caller's agent is the caller's). */
  close(): void {
    this.#ownAgent?.destroy();
  }

  #exchange(method: string, path: string, options: Parameters<typeof exchange>[3] = {}): Promise<Answer> {
    const headers = { ...this.#headers(), ...options.headers };
    return exchange(this.#conn, method, path, { ...options, headers });
  }

  async #call(method: string, path: string, options?: Parameters<typeof exchange>[3]): Promise<Answer> {
    const answer = await this.#exchange(method, path, options);
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw errorFromAnswer(answer.status, answer.body, this.location);
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    validateObjectName(name);
    if (data.byteLength > MAX_OBJECT_BYTES) {
      throw new BadInputError(
        'OBJECT_TOO_LARGE',
        `${name} is ${data.byteLength} bytes; the vault takes objects of at most ${MAX_OBJECT_BYTES}`,
      );
    }
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (this.#direct && isDirectCandidate(name, sha256)) {
      const post = (path: string, json: unknown) =>
        this.#exchange('POST', path, {
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify(json)),
        });
      const upload = { name, size: body.length, sha256, body };
      const outcome = await putDirect(post, this.location, this.#storageAgent, upload);
      if (outcome === 'stored') return;
      if (outcome === 'not-offered') this.#direct = false;
    }
    const answer = await this.#call('PUT', objectPath(name, this.#objects), {
      headers: { 'content-type': 'application/octet-stream', [SHA256_HEADER]: sha256 },
      body,
    });
    if (answer.status === 201) return;
    const parsed = parseJson(answer.body) as Partial<PutAnswer> | undefined;
    if (answer.status === 200 && parsed?.created === false) {
      // The contract: put never succeeds over an existing object, even an identical one.
      // RetryStore turns this back into success when it was its own earlier attempt.
      throw new ConflictError(
        'OBJECT_EXISTS',
        `${name} already exists in ${this.location} (with these bytes)`,
      );
    }
    throw badAnswer(this.location, `HTTP ${answer.status} to an upload`);
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    validateObjectName(name);
    validateRange(name, range);
    if (range?.length === 0) return await this.#emptyRange(name, range.offset);
    const headers = range ? { range: rangeHeader(range.offset, range.length) } : undefined;
    const answer = await this.#call('GET', objectPath(name, this.#objects), headers ? { headers } : {});
    const expected = range ? 206 : 200;
    if (answer.status !== expected) throw badAnswer(this.location, `HTTP ${answer.status} to a read`);
    if (range && answer.body.length !== range.length) {
      throw badAnswer(this.location, `${answer.body.length} bytes for a range of ${range.length}`);
    }
    return answer.body;
  }

  /** HTTP has no empty range: a zero-length read only needs the object to exist and be long enough. */
  async #emptyRange(name: string, offset: number): Promise<Buffer> {
    const info = await this.head(name);
    if (info === null)
      throw new NotFoundError('OBJECT_NOT_FOUND', `no object named ${name} in ${this.location}`);
    if (offset > info.size) {
      throw new BadInputError(
        'BAD_RANGE',
        `range ${offset}+0 is past the end of ${name} (${info.size} bytes)`,
      );
    }
    return Buffer.alloc(0);
  }

  async head(name: string): Promise<ObjectInfo | null> {
    validateObjectName(name);
    const answer = await this.#exchange('HEAD', objectPath(name, this.#objects));
    if (answer.status === 404) return null;
    if (answer.status === 400) {
      // A HEAD answer has no body to say why; a name is all this request carries.
      throw new BadInputError('BAD_OBJECT_NAME', `the vault refused the object name ${name}`, {
        hint: 'names in a vault repository are shorter than 1024 characters by the length of its prefix',
      });
    }
    if (answer.status !== 200) throw errorFromAnswer(answer.status, answer.body, this.location);
    const size = Number(answer.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0) throw badAnswer(this.location, 'a HEAD without a size');
    return { size };
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    let after = '';
    for (;;) {
      const query = new URLSearchParams({ prefix, ...(after ? { after } : {}) });
      const answer = await this.#call('GET', `${this.#objects}?${query}`);
      const page = listPage(answer.body, after, this.location);
      yield* page.objects;
      if (page.next === null) return;
      after = page.next;
    }
  }

  async delete(name: string): Promise<void> {
    validateObjectName(name);
    const keyId = this.#own ? keySlotId(name) : undefined;
    if (keyId !== undefined) return this.#retireKey(keyId);
    await this.#call('DELETE', objectPath(name, this.#objects));
  }

  /** A key slot goes through its own route (the vault keeps a copy); a missing one is gone already. */
  async #retireKey(id: string): Promise<void> {
    try {
      await this.#call('DELETE', `${KEYS_PATH}/${id}`);
    } catch (err) {
      if (!(err instanceof NotFoundError && err.code === 'KEY_NOT_FOUND')) throw err;
    }
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { AuthError, BadInputError, NotFoundError } from '../../errors/index.ts';
import { errorBody, statusFor } from '../../server/http-status.ts';
import { type BlobStore, ensureDir, FileStore, httpProtocol } from '../../storage/index.ts';
import { acceptKey, keyPathIn } from './keys.ts';
import { REPLICATION_PREFIX, validateWorkloadId } from './protocol.ts';
import {
  type Answer,
  deleteObject,
  getObject,
  headObject,
  listObjects,
  putObject,
  readBody,
} from './replica-objects.ts';
import { type SiteTls, verifiedClientName } from './tls.ts';

// The replica site agent's HTTPS server: one create-only object store per workload it
// receives, each backed by a folder of this site, written only by the workload's primary
// site agent (mutual TLS, vault CA only, the client certificate's name pinned per
// workload). It never decrypts anything it receives; the key it keeps for the workload
// serves the replica's own retention and failover.

export interface ReplicaWorkload {
  id: string;
  /** Common name of the primary site agent's certificate: the only sender accepted. */
  primary: string;
}

export interface ReplicaServerOptions {
  /** Folder of this site holding one sub-folder per workload (repo/ and key). */
  root: string;
  tls: SiteTls;
  workloads: readonly ReplicaWorkload[];
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** One JSON-able event per failed request; never bodies or keys. */
  log?: (event: Record<string, unknown>) => void;
}

export interface ReceivedStats {
  objects: number;
  bytes: number;
  /** ISO time of the last object stored, or null. */
  lastReceivedAt: string | null;
}

export function workloadDir(root: string, workload: string): string {
  return join(root, validateWorkloadId(workload));
}

export function replicaRepoDir(root: string, workload: string): string {
  return join(workloadDir(root, workload), 'repo');
}

const OBJECTS = httpProtocol.OBJECTS_PATH;

export class ReplicaServer {
  readonly #options: ReplicaServerOptions;
  readonly #server: Server;
  #workloads = new Map<string, ReplicaWorkload>();
  readonly #stores = new Map<string, BlobStore>();
  readonly #received = new Map<string, ReceivedStats>();

  constructor(options: ReplicaServerOptions) {
    this.#options = options;
    this.setWorkloads(options.workloads);
    this.#server = createServer(
      {
        ca: options.tls.caPem,
        cert: options.tls.certPem,
        key: options.tls.keyPem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      (req, res) => void this.#handle(req, res),
    );
  }

  /** Replaces the set of workloads this site receives (the workloads YAML changed). */
  setWorkloads(list: readonly ReplicaWorkload[]): void {
    this.#workloads = new Map(list.map((w) => [validateWorkloadId(w.id), w]));
  }

  async listen(): Promise<number> {
    const { host = '127.0.0.1', port = 0 } = this.#options;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    return (this.#server.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  received(workload: string): ReceivedStats {
    return { ...(this.#received.get(workload) ?? { objects: 0, bytes: 0, lastReceivedAt: null }) };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Answer;
    try {
      answer = await this.#route(req);
    } catch (err) {
      if (statusFor(err) >= 500) this.#options.log?.({ event: 'replica-request-failed', error: String(err) });
      answer = { status: statusFor(err), body: errorBody(err) };
      req.resume();
    }
    send(res, req.method === 'HEAD', answer);
  }

  async #route(req: IncomingMessage): Promise<Answer> {
    const url = new URL(req.url ?? '/', 'https://replica');
    const match = /^\/([^/]+)(\/.*)?$/.exec(
      url.pathname.startsWith(`${REPLICATION_PREFIX}/`) ? url.pathname.slice(REPLICATION_PREFIX.length) : '',
    );
    if (!match) throw new NotFoundError('NO_SUCH_ROUTE', 'this is a replica site agent; nothing here');
    const workload = this.#authorise(req, match[1]!);
    const rest = match[2] ?? '';
    if (rest === '/key' && req.method === 'PUT') return this.#putKey(workload, req);
    if (rest === OBJECTS && req.method === 'GET')
      return listObjects(await this.#store(workload), url.searchParams);
    if (!rest.startsWith(`${OBJECTS}/`)) throw new NotFoundError('NO_SUCH_ROUTE', `no route ${rest}`);
    const name = rest.slice(OBJECTS.length + 1);
    const store = await this.#store(workload, req.method === 'PUT');
    if (req.method === 'PUT') return this.#count(workload, await putObject(store, name, req));
    if (req.method === 'GET') return getObject(store, name, req.headers.range);
    if (req.method === 'HEAD') return headObject(store, name);
    if (req.method === 'DELETE') return deleteObject(store, name);
    throw new BadInputError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
  }

  /** The workload, when the client certificate is its primary's; 404 for unknown workloads. */
  #authorise(req: IncomingMessage, id: string): string {
    const workload = this.#workloads.get(id);
    if (!workload)
      throw new NotFoundError(
        'WORKLOAD_NOT_REPLICATED',
        `this site receives no workload "${id.slice(0, 63)}"`,
      );
    const peer = verifiedClientName(req.socket as TLSSocket);
    if (peer !== workload.primary) {
      throw new AuthError('FORBIDDEN', `only the primary site agent of ${id} may replicate it here`, {
        hint: 'check the primary site of the workload and the certificate of the sending site agent',
      });
    }
    return id;
  }

  async #putKey(workload: string, req: IncomingMessage): Promise<Answer> {
    const body = await readBody(req, 4096);
    let key: unknown;
    try {
      key = (JSON.parse(body.toString('utf8')) as { key?: unknown }).key;
    } catch {
      key = undefined;
    }
    if (typeof key !== 'string' || key.length < 16 || key.length > 1024) {
      throw new BadInputError(
        'BAD_KEY_OFFER',
        'the body must be {"version":1,"key":"…"} with a key of 16 to 1024 characters',
      );
    }
    await this.#store(workload, true);
    const created = await acceptKey(keyPathIn(workloadDir(this.#options.root, workload)), key);
    return { status: created ? 201 : 200, body: { created } };
  }

  /** The workload's store; its folder is made (again) whenever something is written. */
  async #store(workload: string, writing = false): Promise<BlobStore> {
    const dir = replicaRepoDir(this.#options.root, workload);
    if (writing) await ensureDir(dir);
    let store = this.#stores.get(workload);
    if (!store) {
      store = new FileStore(dir);
      this.#stores.set(workload, store);
    }
    return store;
  }

  #count(workload: string, answer: Answer): Answer {
    const stats = this.#received.get(workload) ?? { objects: 0, bytes: 0, lastReceivedAt: null };
    const size = (answer.body as { size?: number }).size ?? 0;
    if (answer.status === 201) {
      stats.objects++;
      stats.bytes += size;
      stats.lastReceivedAt = new Date().toISOString();
    }
    this.#received.set(workload, stats);
    return answer;
  }
}

function send(res: ServerResponse, head: boolean, answer: Answer): void {
  const { status, body } = answer;
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const type = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, ...answer.headers });
  res.end(head ? undefined : bytes);
}

import { request as httpRequest } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { TransientError } from '../../errors/index.ts';
import { errorFromAnswer } from './errors.ts';
import {
  DIRECT_UPLOAD_NOT_OFFERED,
  DIRECT_UPLOAD_UNAVAILABLE,
  type PutAnswer,
  UPLOADS_COMPLETE_PATH,
  UPLOADS_PATH,
  type UploadRequest,
  type UploadTicket,
} from './protocol.ts';
import type { Answer } from './request.ts';

// The agent's half of direct upload (protocol.ts): ask the vault for a signed URL, send the
// pack straight to the storage service, ask the vault to check and record it. Whenever
// the vault says direct upload is not available, the caller uses the ordinary PUT.

/** POST of JSON to the vault (the store's own exchange: mutual TLS, its agent, its headers). */
export type VaultPost = (path: string, json: unknown) => Promise<Answer>;

const PACK = /^data\/[0-9a-f]{2}\/([0-9a-f]{64})$/;

/** Whether `name` is a pack named by `sha256`, the only objects that go direct. */
export function isDirectCandidate(name: string, sha256: string): boolean {
  return PACK.exec(name)?.[1] === sha256;
}

function codeOf(answer: Answer): string | undefined {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * 'stored' when the pack went straight to storage; 'use-put' when the vault (or storage,
 * for an object that exists) sends this one to the ordinary PUT; 'not-offered' when no
 * object will go direct (the region cannot sign URLs, or the vault has no such route).
 */
export type DirectOutcome = 'stored' | 'use-put' | 'not-offered';

export async function putDirect(
  post: VaultPost,
  location: string,
  storageAgent: HttpsAgent | undefined,
  upload: UploadRequest & { body: Buffer },
): Promise<DirectOutcome> {
  const { name, size, sha256 } = upload;
  const asked = await post(UPLOADS_PATH, { name, size, sha256 } satisfies UploadRequest);
  if (asked.status === 404 && codeOf(asked) === undefined) return 'not-offered';
  if (asked.status === 409 && codeOf(asked) === DIRECT_UPLOAD_NOT_OFFERED) return 'not-offered';
  if (asked.status === 409 && codeOf(asked) === DIRECT_UPLOAD_UNAVAILABLE) return 'use-put';
  if (asked.status !== 200) throw errorFromAnswer(asked.status, asked.body, location);
  const ticket = JSON.parse(asked.body.toString('utf8')) as UploadTicket;
  const stored = await sendToStorage(ticket, upload.body, storageAgent);
  // Taken meanwhile (Azure 409, S3 412): the ordinary PUT tells a retry from other bytes.
  if (stored === 409 || stored === 412) return 'use-put';
  if (stored < 200 || stored >= 300) {
    throw new TransientError(
      'DIRECT_UPLOAD_FAILED',
      `the storage service answered HTTP ${stored} to the upload of ${name}`,
      {
        hint: 'an expired or refused upload URL: the next attempt asks for a new one',
      },
    );
  }
  const done = await post(UPLOADS_COMPLETE_PATH, { name });
  if (done.status !== 201) throw errorFromAnswer(done.status, done.body, location);
  const answer = JSON.parse(done.body.toString('utf8')) as Partial<PutAnswer>;
  if (answer.size !== size) throw errorFromAnswer(500, done.body, location);
  return 'stored';
}

/** PUTs the bytes to the signed URL; the status (the URL is never put in a message: it is a credential). */
function sendToStorage(ticket: UploadTicket, body: Buffer, agent: HttpsAgent | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(ticket.url);
    const headers = { ...ticket.headers, 'content-length': String(body.length) };
    const options = { method: 'PUT', headers, timeout: 10 * 60_000 };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { ...options, ...(agent ? { agent } : {}) })
        : httpRequest(url, options);
    const fail = (err: unknown) =>
      reject(
        new TransientError(
          'STORAGE_UNREACHABLE',
          `the upload to ${url.host} failed: ${String((err as Error)?.message ?? err)}`,
          {
            hint: 'check the network path to the storage service; the next attempt asks for a new URL',
          },
        ),
      );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', fail);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', fail);
    });
    req.end(body);
  });
}

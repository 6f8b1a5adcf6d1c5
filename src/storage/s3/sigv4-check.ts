// For tests only: checks the AWS Signature Version 4 of a request to s3rver, which checks
// the access key id but leaves the signature unchecked ("Signature version 4 calculation
// is unimplemented" in s3rver 3.7.1's authentication middleware). Without this, a wrong
// secret key would be accepted and no test could show that requests are really signed.
// Both forms are checked: the Authorization header, and a presigned URL's query
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature; s3rver
// itself checks X-Amz-Date + X-Amz-Expires against the wall clock). The payload hash
// is taken as the client declared it (x-amz-content-sha256), as S3 does for the
// signature; the body is not re-hashed here.
//
// Written from the specification:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
}

export type SignatureCheck =
  | { kind: 'unsigned' }
  | { kind: 'valid'; accessKeyId: string }
  | { kind: 'unknown-key'; accessKeyId: string }
  | { kind: 'malformed'; reason: string }
  | { kind: 'mismatch'; accessKeyId: string; canonicalRequest: string };

interface Parts {
  accessKeyId: string;
  scope: string[];
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function queryPairs(query: string): [string, string][] {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const raw = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    return raw.map((part) => decodeURIComponent(part.replace(/\+/g, ' '))) as [string, string];
  });
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s+/g, ' ');
}

function fromHeader(authorization: string, headers: IncomingHttpHeaders): Parts | string {
  if (!authorization.startsWith(`${ALGORITHM} `)) return 'not an AWS4-HMAC-SHA256 authorization';
  const fields = new Map(
    authorization
      .slice(ALGORITHM.length + 1)
      .split(',')
      .map((field) => {
        const at = field.indexOf('=');
        return [field.slice(0, at).trim(), field.slice(at + 1).trim()] as [string, string];
      }),
  );
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const amzDate = headerValue(headers, 'x-amz-date');
  const payloadHash = headerValue(headers, 'x-amz-content-sha256');
  if (!credential || !signedHeaders || !signature || !amzDate || !payloadHash) {
    return 'Credential, SignedHeaders, Signature, x-amz-date and x-amz-content-sha256 are required';
  }
  const [accessKeyId = '', ...scope] = credential.split('/');
  return { accessKeyId, scope, signedHeaders: signedHeaders.split(';'), signature, amzDate, payloadHash };
}

function fromQuery(query: Map<string, string>): Parts | string {
  const credential = query.get('X-Amz-Credential');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  const amzDate = query.get('X-Amz-Date');
  if (query.get('X-Amz-Algorithm') !== ALGORITHM || !credential || !signedHeaders || !signature || !amzDate) {
    return 'X-Amz-Algorithm, X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature and X-Amz-Date are required';
  }
  const [accessKeyId = '', ...scope] = credential.split('/');
  const payloadHash = query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  return { accessKeyId, scope, signedHeaders: signedHeaders.split(';'), signature, amzDate, payloadHash };
}

function canonicalRequest(request: SignedRequest, parts: Parts, pairs: [string, string][]): string {
  const at = request.url.indexOf('?');
  const path = at < 0 ? request.url : request.url.slice(0, at);
  const query = pairs
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encode(key), encode(value)])
    .sort(([a = '', av = ''], [b = '', bv = '']) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const headers = parts.signedHeaders.map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`);
  return [
    request.method,
    path,
    query,
    headers.join(''),
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function expectedSignature(secret: string, parts: Parts, canonical: string): string {
  const [date = '', region = '', service = '', terminator = ''] = parts.scope;
  const scope = [date, region, service, terminator].join('/');
  const digest = createHash('sha256').update(canonical).digest('hex');
  const stringToSign = [ALGORITHM, parts.amzDate, scope, digest].join('\n');
  const key = [date, region, service, terminator].reduce<Buffer>(
    (k, part) => hmac(k, part),
    Buffer.from(`AWS4${secret}`),
  );
  return hmac(key, stringToSign).toString('hex');
}

/**
 * Checks the SigV4 signature of `request` with the secret `secretOf(accessKeyId)`
 * returns. A request with no signature at all is "unsigned" (anonymous; s3rver decides).
 */
export function checkSigV4(
  request: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
): SignatureCheck {
  const at = request.url.indexOf('?');
  const pairs = queryPairs(at < 0 ? '' : request.url.slice(at + 1));
  const query = new Map(pairs);
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined && !query.has('X-Amz-Algorithm')) return { kind: 'unsigned' };
  const parts = authorization === undefined ? fromQuery(query) : fromHeader(authorization, request.headers);
  if (typeof parts === 'string') return { kind: 'malformed', reason: parts };
  if (parts.scope.length !== 4 || parts.scope[3] !== 'aws4_request') {
    return { kind: 'malformed', reason: 'the credential scope is not DATE/REGION/SERVICE/aws4_request' };
  }
  if (!parts.signedHeaders.includes('host')) return { kind: 'malformed', reason: 'host is not signed' };
  const secret = secretOf(parts.accessKeyId);
  if (secret === undefined) return { kind: 'unknown-key', accessKeyId: parts.accessKeyId };
  const canonical = canonicalRequest(request, parts, pairs);
  const expected = Buffer.from(expectedSignature(secret, parts, canonical));
  const given = Buffer.from(parts.signature);
  if (expected.length === given.length && timingSafeEqual(expected, given)) {
    return { kind: 'valid', accessKeyId: parts.accessKeyId };
  }
  return { kind: 'mismatch', accessKeyId: parts.accessKeyId, canonicalRequest: canonical };
}

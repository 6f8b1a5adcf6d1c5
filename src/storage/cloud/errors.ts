import {
  AuthError,
  BadInputError,
  ConflictError,
  NotFoundError,
  OffsiteError,
  TransientError,
} from '../../errors/index.ts';

// The part of error mapping that Azure Blob and S3 share: both are HTTP services that
// answer with a status and a service error code, or do not answer at all. Each backend
// turns its SDK's error into a ServiceFailure and handles its own special cases (which
// 404 means "no such container", which 409 means "exists") before falling back here.

export type Operation = 'writing' | 'reading' | 'listing' | 'deleting';

export interface ServiceFailure {
  /** The HTTP status, or undefined when no answer came (refused, reset, timed out). */
  status: number | undefined;
  /** The service's error code ("BlobNotFound", "NoSuchKey"), or the socket's errno code. */
  code: string | undefined;
  /** The service's or socket's message, first line only (later lines echo request details). */
  message: string;
}

/** What the messages name: the operation, the object (or prefix) and the store. */
export interface FailureContext {
  operation: Operation;
  name: string;
  location: string;
  /** Says where the credentials come from, for the hint of an auth failure. */
  credentialsHint: string;
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/** Statuses worth another try: timeouts, throttling, server trouble. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The Offsite error for a failure the backend has no special case for. The SDK's own
 * error is not attached: it holds the request (URL with a SAS signature, headers with
 * the signature or session token), which must not reach logs. A summary is attached
 * instead.
 */
export function mapServiceFailure(failure: ServiceFailure, ctx: FailureContext): OffsiteError {
  const { status, code } = failure;
  const cause = summary(failure);
  const doing = `${ctx.operation} ${ctx.name === '' ? '(all)' : ctx.name}`;
  if (status === undefined) {
    if (code !== undefined && TLS_TRUST_CODES.has(code)) {
      return new AuthError(
        'STORAGE_NOT_TRUSTED',
        `the certificate of ${ctx.location} is not trusted (${code})`,
        {
          cause,
          hint: 'check the endpoint URL; a private CA must be trusted through NODE_EXTRA_CA_CERTS',
        },
      );
    }
    return new TransientError(
      'STORAGE_UNREACHABLE',
      `cannot reach ${ctx.location} (${doing}): ${code ?? failure.message}`,
      {
        cause,
        hint: 'check the network and the endpoint; the request is retried',
      },
    );
  }
  if (status === 401 || status === 403) {
    return new AuthError(
      'STORAGE_ACCESS_DENIED',
      `${ctx.location} refused ${doing}: HTTP ${status} ${code ?? ''}`.trim(),
      {
        cause,
        hint: `check the credentials given by ${ctx.credentialsHint}, and that they allow this operation`,
      },
    );
  }
  if (isTransientStatus(status)) {
    return new TransientError(
      'STORAGE_UNAVAILABLE',
      `${ctx.location} failed ${doing}: HTTP ${status} ${code ?? ''}`.trim(),
      {
        cause,
        hint: 'the storage service is busy or failing; the request is retried',
      },
    );
  }
  return new OffsiteError(
    'internal',
    'STORAGE_ERROR',
    `${ctx.location} refused ${doing}: HTTP ${status} ${code ?? ''}`.trim(),
    {
      cause,
    },
  );
}

export function objectNotFound(name: string, location: string): NotFoundError {
  return new NotFoundError('OBJECT_NOT_FOUND', `${name} does not exist in ${location}`);
}

export function objectExists(name: string, location: string): ConflictError {
  return new ConflictError('OBJECT_EXISTS', `${name} already exists in ${location}`, {
    hint: 'objects are never overwritten; delete it first if it must be replaced',
  });
}

/** The container or bucket itself is missing: created by whoever set up the storage. */
export function storeNotFound(location: string, what: string, operation: Operation): NotFoundError {
  return new NotFoundError('STORE_NOT_FOUND', `the ${what} of ${location} does not exist (${operation})`, {
    hint: `create the ${what} first (offsite never creates it), or correct the URL`,
  });
}

export function rangePastEnd(
  name: string,
  offset: number,
  length: number,
  size: number | undefined,
): BadInputError {
  const of = size === undefined ? name : `${name} (${size} bytes)`;
  return new BadInputError('BAD_RANGE', `range ${offset}+${length} is past the end of ${of}`);
}

/** A body shorter than the service said: the transfer was cut, another try may work. */
export function shortRead(name: string, location: string, got: number, expected: number): TransientError {
  return new TransientError(
    'STORAGE_SHORT_READ',
    `read ${got} of ${expected} bytes of ${name} from ${location}`,
    {
      hint: 'the transfer was cut off; the request is retried',
    },
  );
}

function summary(failure: ServiceFailure): Error {
  const status = failure.status === undefined ? 'no answer' : `HTTP ${failure.status}`;
  return new Error(`${status}${failure.code === undefined ? '' : ` ${failure.code}`}: ${failure.message}`);
}

/** First line of a service message, capped: later lines echo the request that failed. */
export function firstLine(text: unknown): string {
  const line = String(text ?? '').split(/\r?\n/, 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

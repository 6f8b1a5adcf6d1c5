import {
  AuthError,
  type ErrorKind,
  errorOfKind,
  isOffsiteError,
  type OffsiteError,
} from '../errors/index.ts';

// The one place where failures become HTTP statuses. The server answers every error with
// statusFor() and errorBody(); the client turns a status back into the same kind with
// errorFromResponse(), which reads this map the other way round.

/**
 * Why these: `auth` is 401 (who are you?) — a known caller without the right role gets the
 * FORBIDDEN code below (403). `integrity` is 500: it means data the server holds failed
 * verification, which the caller cannot fix; an upload whose checksum does not match is
 * raised as bad-input. `quota` is 507, as DESIGN.md §4 asks. `transient` is 503 so clients
 * retry.
 */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  'bad-input': 400,
  auth: 401,
  'not-found': 404,
  conflict: 409,
  internal: 500,
  integrity: 500,
  transient: 503,
  quota: 507,
};

/** Codes whose HTTP meaning is finer than their kind; these exist only at the HTTP layer. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  FORBIDDEN: 403,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  RANGE_NOT_SATISFIABLE: 416,
};

export type ErrorBody = { error: string; message: string; hint?: string };

export function statusFor(err: unknown): number {
  if (!isOffsiteError(err)) return 500;
  return STATUS_BY_CODE[err.code] ?? STATUS_BY_KIND[err.kind];
}

/** The JSON body of an error answer. Anything that is not an OffsiteError is a bug: say little. */
export function errorBody(err: unknown): ErrorBody {
  if (!isOffsiteError(err)) {
    return { error: 'INTERNAL', message: 'the server failed unexpectedly', hint: 'see the server log' };
  }
  return { error: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
}

/** 403: the caller is known, but its role (or vault scope, or kind: an agent) does not allow this. */
export function forbidden(message: string, hint = 'use a token with a higher role'): AuthError {
  return new AuthError('FORBIDDEN', message, { hint });
}

function kindForStatus(status: number, code: string): ErrorKind {
  if (code === 'RATE_LIMITED') return 'transient';
  if (STATUS_BY_CODE[code] !== undefined) return code === 'FORBIDDEN' ? 'auth' : 'bad-input';
  const kinds = Object.keys(STATUS_BY_KIND) as ErrorKind[];
  const kind = kinds.find((k) => STATUS_BY_KIND[k] === status);
  if (kind) return kind;
  if (status >= 500) return 'transient';
  return 'bad-input';
}

/** The error a client raises for a non-2xx answer, with the server's code, message and hint. */
export function errorFromResponse(status: number, body: unknown): OffsiteError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.error === 'string' ? fields.error : `HTTP_${status}`;
  const message = typeof fields.message === 'string' ? fields.message : `the server answered HTTP ${status}`;
  const hint = typeof fields.hint === 'string' ? fields.hint : undefined;
  return errorOfKind(kindForStatus(status, code), code, message, hint ? { hint } : {});
}

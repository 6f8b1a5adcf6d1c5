import { RestError } from '@azure/storage-blob';
import { errnoCode, isOffsiteError, type OffsiteError } from '../../errors/index.ts';
import {
  type FailureContext,
  firstLine,
  mapServiceFailure,
  objectExists,
  objectNotFound,
  type ServiceFailure,
  storeNotFound,
} from '../cloud/errors.ts';

/** The status and service code of an SDK error (RestError), or of a socket failure. */
export function azureFailure(err: unknown): ServiceFailure {
  if (err instanceof RestError) {
    // Answers without a parsed body (HEAD, streamed GET) carry the code in a header only.
    const code = err.code ?? err.response?.headers.get('x-ms-error-code') ?? errnoCode(err.cause);
    return { status: err.statusCode, code, message: firstLine(err.message) };
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return { status: undefined, code: 'TIMEOUT', message: 'the request timed out' };
  }
  return {
    status: undefined,
    code: errnoCode(err),
    message: firstLine(err instanceof Error ? err.message : err),
  };
}

/**
 * Azure's answers on the error tree. A missing container is STORE_NOT_FOUND (for a put or
 * a list: the store itself is missing); a missing blob is OBJECT_NOT_FOUND; a put that
 * meets an existing blob (409 BlobAlreadyExists, or 412 from If-None-Match: *) is
 * OBJECT_EXISTS. Everything else goes through the shared mapping (auth, throttling,
 * 5xx, network).
 */
export function mapAzureError(err: unknown, ctx: FailureContext): OffsiteError {
  if (isOffsiteError(err)) return err;
  const failure = azureFailure(err);
  if (failure.status === 404) {
    if (
      failure.code === 'ContainerNotFound' &&
      (ctx.operation === 'writing' || ctx.operation === 'listing')
    ) {
      return storeNotFound(ctx.location, 'container', ctx.operation);
    }
    if (ctx.operation === 'reading') return objectNotFound(ctx.name, ctx.location);
  }
  if (ctx.operation === 'writing' && (failure.status === 409 || failure.status === 412)) {
    if (
      failure.code === 'BlobAlreadyExists' ||
      failure.code === 'ConditionNotMet' ||
      failure.status === 412
    ) {
      return objectExists(ctx.name, ctx.location);
    }
  }
  return mapServiceFailure(failure, ctx);
}

import { S3ServiceException } from '@aws-sdk/client-s3';
import {
  AuthError,
  BadInputError,
  errnoCode,
  isOffsiteError,
  type OffsiteError,
  TransientError,
} from '../../errors/index.ts';
import {
  type FailureContext,
  firstLine,
  mapServiceFailure,
  objectExists,
  objectNotFound,
  type ServiceFailure,
  storeNotFound,
} from '../cloud/errors.ts';
import { S3_CREDENTIAL_VARIABLES } from './location.ts';

/** The status and error code of an SDK error, or of a socket failure (no status). */
export function s3Failure(err: unknown): ServiceFailure {
  const message = firstLine(err instanceof Error ? err.message : err);
  if (err instanceof S3ServiceException) {
    // "Unknown": the SDK could not read a code from the answer (e.g. a HEAD has no body).
    const code = err.name === 'Unknown' || err.name === 'UnknownError' ? undefined : err.name;
    return { status: err.$metadata.httpStatusCode, code, message };
  }
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const code = errnoCode(err) ?? (err instanceof Error && err.name !== 'Error' ? err.name : undefined);
  return { status, code, message };
}

/**
 * S3's answers on the error tree. A missing bucket is STORE_NOT_FOUND for put and list; a
 * missing key is OBJECT_NOT_FOUND; 412 on a put (If-None-Match: *) is OBJECT_EXISTS; 409
 * ConditionalRequestConflict (another conditional put of the key was in flight) is
 * transient, as AWS documents. A service that refuses the If-None-Match header (501) is
 * named, with the URL setting that avoids it. No credentials at all is AuthError.
 */
export function mapS3Error(err: unknown, ctx: FailureContext): OffsiteError {
  if (isOffsiteError(err)) return err;
  if (err instanceof Error && err.name === 'CredentialsProviderError') {
    return new AuthError('STORAGE_NO_CREDENTIALS', `no credentials for ${ctx.location}`, {
      hint: `set ${S3_CREDENTIAL_VARIABLES}`,
    });
  }
  const failure = s3Failure(err);
  const { status, code } = failure;
  if (status === 404) {
    if (code === 'NoSuchBucket' && (ctx.operation === 'writing' || ctx.operation === 'listing')) {
      return storeNotFound(ctx.location, 'bucket', ctx.operation);
    }
    if (ctx.operation === 'reading') return objectNotFound(ctx.name, ctx.location);
  }
  if (ctx.operation === 'writing') {
    if (status === 412) return objectExists(ctx.name, ctx.location);
    if (status === 409 && code === 'ConditionalRequestConflict') {
      return new TransientError(
        'CONCURRENT_PUT',
        `another put of ${ctx.name} in ${ctx.location} was in flight`,
        {
          hint: 'the put is retried; it then either succeeds or finds the object',
        },
      );
    }
    if (status === 501 && code === 'NotImplemented') {
      return new BadInputError(
        'CONDITIONAL_PUT_UNSUPPORTED',
        `${ctx.location} does not support If-None-Match on put`,
        {
          hint: 'add create-only=head to the storage URL (check first, then put; see docs/design.md)',
        },
      );
    }
  }
  return mapServiceFailure(failure, ctx);
}

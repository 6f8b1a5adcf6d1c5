import {
  AuthError,
  errnoCode,
  isOffsiteError,
  OffsiteError,
  QuotaError,
  TransientError,
} from '../../errors/index.ts';

export type Operation = 'writing' | 'reading' | 'listing' | 'deleting';

/**
 * Turns a Node fs error into an Offsite error whose message names the object and the
 * operation; the original error stays attached as `cause`. Offsite errors pass through.
 */
export function mapFsError(err: unknown, operation: Operation, path: string): Error {
  if (isOffsiteError(err)) return err;
  const code = errnoCode(err);
  const options = { cause: err };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new QuotaError('DISK_FULL', `no space left on device ${operation} ${path}`, {
        ...options,
        hint: 'free space on the storage location',
      });
    case 'EACCES':
    case 'EPERM':
      return new AuthError('STORAGE_PERMISSION_DENIED', `permission denied ${operation} ${path}`, {
        ...options,
        hint: 'let the user running offsite read and write the storage location',
      });
    case 'EROFS':
      return new AuthError('STORAGE_READ_ONLY', `read-only file system ${operation} ${path}`, {
        ...options,
        hint: 'mount the storage location read-write',
      });
    case 'EMFILE':
    case 'ENFILE':
    case 'EAGAIN':
    case 'EBUSY':
      return new TransientError('STORAGE_BUSY', `${code} ${operation} ${path}`, options);
    default:
      return new OffsiteError(
        'internal',
        'STORAGE_IO_ERROR',
        `I/O error ${operation} ${path}: ${describe(err)}`,
        {
          ...options,
        },
      );
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

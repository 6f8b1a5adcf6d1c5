import pg from 'pg';
import {
  AuthError,
  BadInputError,
  errnoCode,
  isOffsiteError,
  NotFoundError,
  TransientError,
} from '../../../errors/index.ts';

// PostgreSQL's failures in Offsite's words. Constraint violations are turned into their
// own codes by the operations (they know what was taken); here: the connection, the
// retryable conflicts of SERIALIZABLE, and what the server cannot store. Messages name
// the host and database, never the password (scrubbed even if a driver echoed it).

/** Where the catalog lives, for messages: 'host:port/database'; and what must never be shown. */
export interface Target {
  where: string;
  password: string;
}

/** serialization_failure and deadlock_detected: the transaction may succeed when run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/** admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections. */
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** What the driver says when a connection drops or cannot be had in time. */
const DROPPED =
  /connection terminated|connection ended|connection error|timeout exceeded when trying to connect/i;

/** The SQLSTATE of a server error, e.g. '23505'; undefined for anything else. */
export function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError ? err.code : undefined;
}

/** The name of the unique constraint or index an error broke, or undefined for any other error. */
function uniqueViolation(err: unknown): string | undefined {
  if (sqlState(err) !== '23505') return undefined;
  return (err as { constraint?: string }).constraint ?? '';
}

/**
 * Runs a write; if it broke a unique constraint, throws what `duplicate` makes of the
 * constraint's name instead (a ConflictError with the operation's own code).
 */
export async function onDuplicate<T>(
  write: () => Promise<T>,
  duplicate: (constraint: string) => Error,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const constraint = uniqueViolation(err);
    if (constraint !== undefined) throw duplicate(constraint);
    throw err;
  }
}

export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has(sqlState(err) ?? '');
}

function isConnectionFailure(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) return state.startsWith('08') || state.startsWith('28') || UNAVAILABLE.has(state);
  if (NETWORK.has(errnoCode(err) ?? '')) return true;
  return err instanceof Error && DROPPED.test(err.message);
}

function detail(err: unknown, target: Target): string {
  const text = err instanceof Error ? err.message : String(err);
  return target.password.length >= 3 ? text.replaceAll(target.password, '***') : text;
}

/** Any error of a catalog statement, as the error the caller should see. */
export function translate(err: unknown, target: Target): unknown {
  if (isOffsiteError(err)) return err;
  if (isConnectionFailure(err)) {
    return new TransientError(
      'CATALOG_UNREACHABLE',
      `cannot use the PostgreSQL catalog at ${target.where}: ${detail(err, target)}`,
      { cause: err, hint: 'check that PostgreSQL is running and reachable, then try again' },
    );
  }
  if (isRetryable(err)) {
    return new TransientError(
      'CATALOG_BUSY',
      `the PostgreSQL catalog at ${target.where} kept refusing a change that conflicted with concurrent ones`,
      { cause: err, hint: 'try again' },
    );
  }
  if (sqlState(err) === '22021') {
    return new BadInputError(
      'BAD_FIELD',
      'a text value holds a NUL character, which PostgreSQL cannot store',
      {
        cause: err,
      },
    );
  }
  return err;
}

/** An error while opening: what is wrong with the URL's user or database, else as translate. */
export function openFailure(err: unknown, target: Target): unknown {
  const state = sqlState(err);
  if (state === '28P01' || state === '28000') {
    return new AuthError(
      'CATALOG_AUTH_FAILED',
      `PostgreSQL at ${target.where} refused the catalog's login: ${detail(err, target)}`,
      { cause: err, hint: 'check the user and password in the catalog URL' },
    );
  }
  if (state === '3D000') {
    return new NotFoundError(
      'CATALOG_DATABASE_NOT_FOUND',
      `PostgreSQL at ${target.where} has no such database: ${detail(err, target)}`,
      { cause: err, hint: 'create the database (createdb), or correct its name in the catalog URL' },
    );
  }
  const translated = translate(err, target);
  if (isOffsiteError(translated)) return translated;
  return new BadInputError(
    'CATALOG_OPEN_FAILED',
    `cannot open the PostgreSQL catalog at ${target.where}: ${detail(err, target)}`,
    { cause: err, hint: "check that the catalog URL's user may create tables in that database" },
  );
}

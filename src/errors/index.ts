// The one error tree of Offsite. Every layer throws these; the CLI maps them to exit
// codes in one place (src/cli/exit-codes.ts) and the server maps them to HTTP statuses
// in one place. This folder imports nothing from the rest of the project.

/** Broad kind of failure; each maps to one exit code and one HTTP status. */
export type ErrorKind =
  | 'not-found'
  | 'integrity'
  | 'auth'
  | 'quota'
  | 'conflict'
  | 'bad-input'
  | 'transient'
  | 'internal';

/**
 * Base class. `code` is stable (scripts and tests match on it); `message` says what is
 * wrong; `hint` says what to do about it. Messages must never contain secrets.
 */
export class OffsiteError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.hint = options?.hint;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, kind: this.kind, message: this.message, hint: this.hint };
  }
}

type Options = { hint?: string; cause?: unknown };

export class NotFoundError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('not-found', code, message, options);
  }
}

/** Data failed authentication, a hash did not match, or a structure is malformed. */
export class IntegrityError extends OffsiteError {
  /** The storage object (or path) that is damaged, when known. */
  readonly object: string | undefined;
  constructor(code: string, message: string, options?: Options & { object?: string }) {
    super('integrity', code, message, options);
    this.object = options?.object;
  }
}

export class AuthError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('auth', code, message, options);
  }
}

export class QuotaError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('quota', code, message, options);
  }
}

export class ConflictError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('conflict', code, message, options);
  }
}

export class BadInputError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('bad-input', code, message, options);
  }
}

/** Worth retrying: a network hiccup, a busy backend, a timeout. */
export class TransientError extends OffsiteError {
  constructor(code: string, message: string, options?: Options) {
    super('transient', code, message, options);
  }
}

const CLASS_OF_KIND: Readonly<
  Record<ErrorKind, (code: string, message: string, options?: Options) => OffsiteError>
> = {
  'bad-input': (c, m, o) => new BadInputError(c, m, o),
  auth: (c, m, o) => new AuthError(c, m, o),
  'not-found': (c, m, o) => new NotFoundError(c, m, o),
  conflict: (c, m, o) => new ConflictError(c, m, o),
  integrity: (c, m, o) => new IntegrityError(c, m, o),
  internal: (c, m, o) => new OffsiteError('internal', c, m, o),
  transient: (c, m, o) => new TransientError(c, m, o),
  quota: (c, m, o) => new QuotaError(c, m, o),
};

/** True for the names of the error kinds (e.g. a kind read from another process's answer). */
export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.hasOwn(CLASS_OF_KIND, value);
}

/** The error of that kind's class: how an error crossing a process boundary is rebuilt. */
export function errorOfKind(kind: ErrorKind, code: string, message: string, options?: Options): OffsiteError {
  return CLASS_OF_KIND[kind](code, message, options);
}

export function isOffsiteError(err: unknown): err is OffsiteError {
  return err instanceof OffsiteError;
}

/** Node's fs errors carry a `code` such as ENOENT; this reads it without casts everywhere. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

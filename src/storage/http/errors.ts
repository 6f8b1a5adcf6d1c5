import {
  AuthError,
  type ErrorKind,
  errnoCode,
  errorOfKind,
  isErrorKind,
  OffsiteError,
  TransientError,
} from '../../errors/index.ts';

// The vault's answers turned back into the one error tree. The server sends
// `{ error: CODE, kind?, message, hint? }` with a status chosen from the error's kind; the
// storage layer may not import the server, so this is the small mapping back: from the
// kind when the answer names it, else from the status.

/** The statuses the vault answers with (403: the agent may not do this, e.g. delete data). */
const KIND_BY_STATUS: Readonly<Record<number, ErrorKind>> = {
  400: 'bad-input',
  401: 'auth',
  403: 'auth',
  404: 'not-found',
  409: 'conflict',
  413: 'bad-input',
  416: 'bad-input',
  500: 'internal',
  507: 'quota',
};

function kindOf(status: number, named: unknown): ErrorKind {
  if (isErrorKind(named)) return named;
  return KIND_BY_STATUS[status] ?? (status >= 500 ? 'transient' : 'bad-input');
}

function fieldsOf(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The error for a non-2xx answer, with the server's code, message and hint. A range past
 * the end of an object (416) is BAD_RANGE, the code the BlobStore contract gives it.
 */
export function errorFromAnswer(status: number, body: Buffer, location: string): OffsiteError {
  const fields = fieldsOf(body);
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : undefined);
  const code = status === 416 ? 'BAD_RANGE' : (text('error') ?? `HTTP_${status}`);
  const message = text('message') ?? `the vault at ${location} answered HTTP ${status}`;
  const hint = text('hint');
  return errorOfKind(kindOf(status, fields.kind), code, message, hint === undefined ? {} : { hint });
}

/** An answer this client does not understand: a different server, or a bug on one side. */
export function badAnswer(location: string, what: string): OffsiteError {
  return new OffsiteError('internal', 'BAD_ANSWER', `the vault at ${location} answered ${what}`, {
    hint: 'check that the URL is the vault server and that agent and server versions match',
  });
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

/**
 * A request that got no (whole) answer. An untrusted server certificate is permanent
 * (retrying cannot fix it); everything else — refused or reset connections, timeouts, an
 * answer cut off — is transient, so RetryStore tries again.
 */
export function connectionError(err: unknown, location: string): OffsiteError {
  const code = errnoCode(err) ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return new AuthError('SERVER_NOT_TRUSTED', `the certificate of ${location} is not trusted (${code})`, {
      hint: "use the vault's CA certificate (ca.pem) and a host name its certificate covers",
      cause: err,
    });
  }
  if (code === 'ETIMEDOUT') {
    return new TransientError('VAULT_TIMEOUT', `the vault at ${location} did not answer in time`, {
      hint: 'check the network; the request is retried',
      cause: err,
    });
  }
  const detail = code || (err instanceof Error ? err.message : String(err));
  return new TransientError('VAULT_UNREACHABLE', `cannot reach the vault at ${location}: ${detail}`, {
    hint: 'check the network and that the vault server is running',
    cause: err,
  });
}

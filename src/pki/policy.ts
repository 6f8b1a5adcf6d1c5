// What Offsite accepts as an uploaded client certificate, shared by the validator and by
// the generator (`offsite cert create` must produce certificates the validator accepts).

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Longest allowed validity: three years of 365 days plus one leap day = 1096 days exactly,
 * measured as notAfter − notBefore (94 694 400 seconds); one second more is too long.
 */
export const MAX_VALIDITY_DAYS = 3 * 365 + 1;
export const MAX_VALIDITY_MS = MAX_VALIDITY_DAYS * DAY_MS;

export const MIN_RSA_BITS = 2048;

/** Node's names for the NIST curves P-256, P-384 and P-521. */
export const ALLOWED_CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** Certificates we create start this far in the past, so a verifier whose clock lags ours still accepts them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BadInputError, IntegrityError } from '../../errors/index.ts';

// Users' passwords, stored as scrypt hashes with a random salt:
//   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
// The parameters travel with the hash so they can be raised later without breaking old
// hashes; a stored hash asking for absurd parameters is refused rather than obeyed.

const N = 32768;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const MAX_N = 1 << 17;
/** scrypt needs 128·N·r bytes; leave room for the largest N we accept. */
const MAX_MEMORY = 128 * MAX_N * R + 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

interface Params {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: MAX_MEMORY }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Refuses passwords too short to resist guessing, or too long to hash cheaply. */
export function checkPassword(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || [...password].length < MIN_PASSWORD_LENGTH) {
    throw new BadInputError('WEAK_PASSWORD', `${field}: at least ${MIN_PASSWORD_LENGTH} characters`, {
      hint: 'use a longer password, e.g. a few random words',
    });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new BadInputError('BAD_FIELD', `${field}: at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

function damaged(): IntegrityError {
  return new IntegrityError('PASSWORD_HASH_DAMAGED', 'a stored password hash is not in the expected form', {
    hint: 'set the user a new password with `offsite user set NAME --password-file F`',
  });
}

function parse(stored: string): Params {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw damaged();
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  const powerOfTwo = Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;
  if (
    !powerOfTwo ||
    n > MAX_N ||
    r !== R ||
    !(p >= 1 && p <= 4) ||
    salt.length < 16 ||
    hash.length !== KEY_LENGTH
  ) {
    throw damaged();
  }
  return { n, r, p, salt, hash };
}

/** Compares in constant time. A damaged stored hash is an error, never a match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const params = parse(stored);
  const candidate = await derive(password, params.salt, params.n, params.r, params.p);
  return timingSafeEqual(candidate, params.hash);
}

let decoy: Promise<string> | undefined;

/**
 * Spends the same time as verifying a real password, for a login with an unknown name,
 * so the answer's timing does not tell which names exist.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(16).toString('base64'));
  await verifyPassword(password, await decoy);
  return false;
}

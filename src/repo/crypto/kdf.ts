import { argon2, randomBytes, scrypt } from 'node:crypto';
import { BadInputError } from '../../errors/index.ts';

/** How a key-encryption key is derived from a passphrase; stored in clear in a key file. */
export type KdfParams =
  | { algorithm: 'argon2id'; memoryKiB: number; passes: number; parallelism: number; salt: string }
  | { algorithm: 'scrypt'; n: number; r: number; p: number; salt: string };

export const MIN_PASSPHRASE_LENGTH = 16;

/** 64 MiB, 3 passes: about 0.1 s here, and the cost an attacker pays per guess. */
export function defaultKdfParams(): KdfParams {
  return {
    algorithm: 'argon2id',
    memoryKiB: 64 * 1024,
    passes: 3,
    parallelism: 2,
    salt: randomBytes(32).toString('base64'),
  };
}

/** Cheap parameters, only for tests that create many repositories. */
export function fastKdfParams(): KdfParams {
  return {
    algorithm: 'argon2id',
    memoryKiB: 256,
    passes: 1,
    parallelism: 1,
    salt: randomBytes(32).toString('base64'),
  };
}

export function checkPassphraseStrength(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new BadInputError(
      'PASSPHRASE_TOO_SHORT',
      `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long`,
      { hint: 'choose a longer one, or let `offsite init --generate-passphrase` make one' },
    );
  }
}

/** A key slot may ask for at most this much memory: more is a tampered file, not a setting. */
const MAX_KDF_MEMORY = 1024 * 1024 * 1024;

/** Argon2 refuses a shorter salt (with a RangeError); ours are 32 bytes. */
const MIN_SALT_BYTES = 8;

function intIn(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

function validArgon2(p: Record<string, unknown>): boolean {
  return (
    intIn(p.parallelism, 1, 16) &&
    intIn(p.memoryKiB, 8 * (p.parallelism as number), MAX_KDF_MEMORY / 1024) &&
    intIn(p.passes, 1, 64)
  );
}

function validScrypt(p: Record<string, unknown>): boolean {
  const n = p.n as number;
  const shapeOk = intIn(p.n, 2, 2 ** 24) && (n & (n - 1)) === 0 && intIn(p.r, 1, 64) && intIn(p.p, 1, 16);
  // scrypt needs 128·N·r bytes; bounded like argon2id's memory.
  return shapeOk && 128 * n * (p.r as number) <= MAX_KDF_MEMORY;
}

/** Refuses parameters a tampered key file could use to exhaust memory or time, or to crash. */
function checkParams(params: KdfParams): void {
  const raw = params as unknown as Record<string, unknown>;
  const ok =
    typeof raw.salt === 'string' &&
    Buffer.from(raw.salt, 'base64').length >= MIN_SALT_BYTES &&
    ((raw.algorithm === 'argon2id' && validArgon2(raw)) || (raw.algorithm === 'scrypt' && validScrypt(raw)));
  if (!ok)
    throw new BadInputError(
      'BAD_KDF_PARAMS',
      'key file has unknown or out-of-range key-derivation parameters',
    );
}

export async function deriveKek(passphrase: string, params: KdfParams): Promise<Buffer> {
  checkParams(params);
  const salt = Buffer.from(params.salt, 'base64');
  const message = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  if (params.algorithm === 'argon2id') {
    return new Promise((resolve, reject) =>
      argon2(
        'argon2id',
        {
          message,
          nonce: salt,
          parallelism: params.parallelism,
          tagLength: 32,
          memory: params.memoryKiB,
          passes: params.passes,
        },
        (err, key) => (err ? reject(err) : resolve(key)),
      ),
    );
  }
  const maxmem = 256 * params.n * params.r + 1024 * 1024; // Node's own limit; checkParams bounds it
  return new Promise((resolve, reject) =>
    scrypt(message, salt, 32, { N: params.n, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { IntegrityError } from '../../errors/index.ts';

/**
 * The keys of one repository, all derived from a 32-byte random master secret that key
 * files wrap. HKDF labels keep the three uses independent: if one derived key leaked,
 * the others would stay secret.
 */
export interface RepoKeys {
  /** Root of every encryption key (files and packs derive their own from it). */
  readonly encKey: Buffer;
  /** HMAC-SHA256 key for blob ids, so storage cannot test for known plaintext. */
  readonly idKey: Buffer;
  /** Seed of the chunker's gear table, so chunk boundaries leak nothing. */
  readonly chunkerSecret: Buffer;
  readonly master: Buffer;
}

export const MASTER_SECRET_BYTES = 32;

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `offsite v1 ${label}`, 32));
}

export function keysFromMaster(master: Buffer): RepoKeys {
  if (master.length !== MASTER_SECRET_BYTES) {
    throw new IntegrityError('BAD_MASTER_KEY', 'the master key has the wrong length');
  }
  return {
    master,
    encKey: derive(master, 'encryption'),
    idKey: derive(master, 'blob id'),
    chunkerSecret: derive(master, 'chunker'),
  };
}

export function newMasterSecret(): Buffer {
  return randomBytes(MASTER_SECRET_BYTES);
}

const WRAP_AAD = Buffer.from('offsite v1 key wrap');

/** nonce(12) ‖ AES-256-GCM(kek, master) ‖ tag(16). The kek is fresh per key file. */
export function wrapMaster(kek: Buffer, master: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(WRAP_AAD);
  const body = Buffer.concat([cipher.update(master), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Returns the master secret, or undefined when the kek is wrong (i.e. wrong passphrase). */
export function unwrapMaster(kek: Buffer, wrapped: Buffer): Buffer | undefined {
  if (wrapped.length !== 12 + MASTER_SECRET_BYTES + 16) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12));
  decipher.setAAD(WRAP_AAD);
  decipher.setAuthTag(wrapped.subarray(12 + MASTER_SECRET_BYTES));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(12, 12 + MASTER_SECRET_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

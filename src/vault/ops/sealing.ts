import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { IntegrityError } from '../../errors/index.ts';

// Webhook secrets must be usable (to sign with HMAC), so they cannot be hashed like tokens;
// the catalog holds them sealed with AES-256-GCM under a key derived from the vault's CA
// private key, which lives in DATA_DIR (0600), never in the catalog. A stolen catalog
// alone therefore reveals no secret. Replacing the CA key makes them unreadable, which is
// reported on delivery (re-create the webhooks then).

const INFO = 'offsite v1 webhook secret';
const VERSION = 'v1.';
const NONCE = 12;
const TAG = 16;

export function webhookSecretKey(caKeyPem: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(caKeyPem, 'utf8'), Buffer.alloc(0), INFO, 32));
}

/** The secret is bound to its vault: a sealed value copied to another vault does not open. */
function aad(vaultId: string): Buffer {
  return Buffer.from(`${INFO}\n${vaultId}`, 'utf8');
}

export function sealSecret(key: Buffer, vaultId: string, secret: string): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(vaultId));
  const sealed = Buffer.concat([nonce, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return VERSION + sealed.toString('base64');
}

export function openSecret(key: Buffer, vaultId: string, sealed: string): string {
  const raw = sealed.startsWith(VERSION)
    ? Buffer.from(sealed.slice(VERSION.length), 'base64')
    : Buffer.alloc(0);
  try {
    if (raw.length < NONCE + TAG) throw new Error('too short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE));
    decipher.setAAD(aad(vaultId));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new IntegrityError(
      'WEBHOOK_SECRET_UNREADABLE',
      'a webhook secret in the catalog cannot be opened',
      {
        hint: 'the CA key of the server changed or the catalog was edited; delete the webhook and add it again',
      },
    );
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { AuthError, ConflictError, IntegrityError, isOffsiteError, NotFoundError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { defaultKdfParams, deriveKek, type KdfParams } from './crypto/kdf.ts';
import { unwrapMaster, wrapMaster } from './crypto/keys.ts';

/**
 * Key slots: each file under keys/ wraps the master secret with a key derived from one
 * passphrase (or recovery key). Plain JSON: it holds nothing usable without the passphrase.
 * The file name is the SHA-256 of its bytes, so a slot is never overwritten.
 */
export interface KeyFile {
  version: 1;
  created: string;
  hostname: string;
  username: string;
  label: string;
  kdf: KdfParams;
  wrapped: string;
}

export interface KeySlot {
  /** Storage name, e.g. keys/3f…; `id` is its hex part. */
  name: string;
  id: string;
  file: KeyFile;
}

const RECOVERY_KEY = /^(?:[A-Z2-7]{4}[- ]?){7}[A-Z2-7]{4}$/;

/**
 * A recovery key (8 groups of 4 base32 characters) is accepted however it is typed:
 * upper or lower case, with dashes, spaces or neither. Anything else is used as given.
 */
export function canonicalSecret(passphrase: string): string {
  const compact = passphrase.trim().toUpperCase();
  if (!RECOVERY_KEY.test(compact)) return passphrase;
  const letters = compact.replace(/[- ]/g, '');
  return letters.match(/.{4}/g)!.join('-');
}

/** 160 random bits as 8 dashed groups of base32: to print once and keep on paper. */
export function generateRecoveryKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(20);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

export async function addKeySlot(
  store: BlobStore,
  master: Buffer,
  passphrase: string,
  options: { label?: string; kdf?: KdfParams; now?: Date } = {},
): Promise<KeySlot> {
  const kdf = options.kdf ?? defaultKdfParams();
  const file: KeyFile = {
    version: 1,
    created: (options.now ?? new Date()).toISOString(),
    hostname: hostname(),
    username: safeUsername(),
    label: options.label ?? 'passphrase',
    kdf,
    wrapped: wrapMaster(await deriveKek(canonicalSecret(passphrase), kdf), master).toString('base64'),
  };
  const bytes = Buffer.from(`${JSON.stringify(file, null, 2)}\n`);
  const id = createHash('sha256').update(bytes).digest('hex');
  await store.put(`keys/${id}`, bytes);
  return { name: `keys/${id}`, id, file };
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

export interface KeyScan {
  slots: KeySlot[];
  /** Key files that do not match their name or do not parse: named, with why. */
  damaged: { object: string; message: string }[];
}

/** Every intact key slot, oldest first, and the damaged key files. */
export async function scanKeySlots(store: BlobStore): Promise<KeyScan> {
  const scan: KeyScan = { slots: [], damaged: [] };
  for await (const object of store.list('keys/')) {
    try {
      const bytes = await store.get(object.name);
      const id = object.name.slice('keys/'.length);
      if (createHash('sha256').update(bytes).digest('hex') !== id) {
        throw new IntegrityError(
          'CORRUPT_KEY',
          `${object.name} does not match its name: the key file is damaged`,
          {
            object: object.name,
          },
        );
      }
      scan.slots.push({ name: object.name, id, file: parseKeyFile(bytes, object.name) });
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      scan.damaged.push({ object: object.name, message: err.message });
    }
  }
  scan.slots.sort((a, b) => a.file.created.localeCompare(b.file.created));
  return scan;
}

/** Every key slot; a damaged key file is an error naming it (for `check` and `key list`). */
export async function listKeySlots(store: BlobStore): Promise<KeySlot[]> {
  const { slots, damaged } = await scanKeySlots(store);
  const [first] = damaged;
  if (first) throw new IntegrityError('CORRUPT_KEY', first.message, { object: first.object });
  return slots;
}

function parseKeyFile(bytes: Buffer, name: string): KeyFile {
  try {
    const file = JSON.parse(bytes.toString('utf8')) as KeyFile;
    // `created` orders the slots (a string compare): anything else is a damaged file.
    const valid =
      file.version === 1 &&
      typeof file.created === 'string' &&
      typeof file.wrapped === 'string' &&
      typeof file.kdf?.salt === 'string';
    if (valid) return file;
  } catch {
    // fall through to the error below
  }
  throw new IntegrityError('CORRUPT_KEY', `${name} is not a valid key file`, { object: name });
}

/**
 * Tries every intact slot; a damaged key file does not lock out the others. A passphrase
 * that opens none is wrong (exit 12) — unless a damaged key file might have been its
 * slot: then that file is named, because no passphrase can open it now.
 */
export async function unlock(
  store: BlobStore,
  passphrase: string,
): Promise<{ master: Buffer; slot: KeySlot }> {
  const { slots, damaged } = await scanKeySlots(store);
  for (const slot of slots) {
    let kek: Buffer;
    try {
      kek = await deriveKek(canonicalSecret(passphrase), slot.file.kdf);
    } catch (err) {
      // A slot whose settings are refused (e.g. BAD_KDF_PARAMS) must not lock out the
      // good slots beside it: whoever can write keys/ could otherwise plant one first.
      if (!isOffsiteError(err)) throw err;
      damaged.push({ object: slot.name, message: err.message });
      continue;
    }
    const master = unwrapMaster(kek, Buffer.from(slot.file.wrapped, 'base64'));
    if (master) return { master, slot };
  }
  if (damaged.length > 0) {
    const names = damaged.map((d) => `${d.object} (${d.message})`).join('; ');
    throw new IntegrityError(
      'CORRUPT_KEY',
      `no intact key opens the repository with this passphrase; damaged: ${names}`,
      {
        object: damaged[0]!.object,
        hint: 'if the passphrase is right, its key file is damaged: use another passphrase or a recovery key, or restore keys/ from a copy',
      },
    );
  }
  if (slots.length === 0) {
    throw new NotFoundError('NO_KEYS', `the repository at ${store.location} has no key files`, {
      hint: 'the keys/ folder is missing or empty; restore it from a copy of the repository',
    });
  }
  throw new AuthError(
    'WRONG_PASSPHRASE',
    `wrong passphrase: no key of the repository at ${store.location} opens with it`,
    {
      hint: 'check OFFSITE_PASSWORD / OFFSITE_PASSWORD_FILE; a lost passphrase cannot be recovered',
    },
  );
}

export async function removeKeySlot(store: BlobStore, id: string, inUse: KeySlot): Promise<void> {
  const slots = await listKeySlots(store);
  const matches = slots.filter((s) => s.id.startsWith(id));
  if (matches.length !== 1) {
    throw new NotFoundError('KEY_NOT_FOUND', `no single key matches "${id}" (${matches.length} match)`);
  }
  if (matches[0]!.id === inUse.id) {
    throw new ConflictError('KEY_IN_USE', 'refusing to remove the key that opened the repository', {
      hint: 'open the repository with another passphrase to remove this one',
    });
  }
  await store.delete(matches[0]!.name);
}

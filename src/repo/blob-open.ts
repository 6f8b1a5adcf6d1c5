import type { KeyObject } from 'node:crypto';
import { IntegrityError } from '../errors/index.ts';
import type { BlobLocation } from './blob-index.ts';
import { hex, openBlob } from './crypto/seal.ts';

/** What opening a blob needs to know of it. */
export type StoredBlob = Pick<BlobLocation, 'type' | 'compressed' | 'offset' | 'rawLength'>;

/**
 * Authenticates a sealed blob and returns what is stored (still compressed when
 * `blob.compressed`). The same on the main thread and in restore workers.
 */
export function unseal(key: KeyObject, id: Buffer, blob: StoredBlob, sealed: Buffer, where: string): Buffer {
  return openBlob(
    key,
    { type: blob.type, compressed: blob.compressed, id, offset: blob.offset },
    sealed,
    where,
  );
}

/** The plaintext, once its length and id are checked: the last line against wrong data. */
export function checkedPlain(
  plain: Buffer,
  id: Buffer,
  blob: StoredBlob,
  where: string,
  blobId: (data: Uint8Array) => Buffer,
): Buffer {
  if (plain.length !== blob.rawLength || !blobId(plain).equals(id)) {
    throw new IntegrityError('ID_MISMATCH', `blob ${hex(id)} in ${where} does not match its id`, {
      object: where,
    });
  }
  return plain;
}

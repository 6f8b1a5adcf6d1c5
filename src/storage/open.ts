import { fileURLToPath } from 'node:url';
import { BadInputError } from '../errors/index.ts';
import { FileStore } from './fs/index.ts';
import { MemoryStore } from './memory/index.ts';
import type { BlobStore } from './types.ts';

const SUPPORTED = 'a directory path, file:///absolute/path, memory: (for tests)';

/**
 * Opens the BlobStore a location names: a plain path (relative or absolute) or a
 * file:// URL is a FileStore; "memory:" is a new, empty MemoryStore. Nothing is created
 * or checked on disk here. Any other scheme is refused, naming the scheme.
 */
export function openStore(location: string): BlobStore {
  if (location === '') {
    throw new BadInputError('BAD_STORE_LOCATION', 'the storage location is empty', {
      hint: `use ${SUPPORTED}`,
    });
  }
  const scheme = schemeOf(location);
  if (scheme === undefined) return new FileStore(location);
  if (scheme === 'file') return new FileStore(filePath(location));
  if (scheme === 'memory') return new MemoryStore(location);
  throw new BadInputError(
    'UNSUPPORTED_STORE',
    `unsupported storage scheme "${scheme}:" in ${redact(location)}`,
    {
      hint: `use ${SUPPORTED} (write ./a:b for a relative path that contains a colon)`,
    },
  );
}

/**
 * "scheme:" at the start, as in RFC 3986. A single letter is a Windows drive ("C:\x"),
 * not a scheme.
 */
function schemeOf(location: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location);
  if (match === null || match[1]!.length === 1) return undefined;
  return match[1]!.toLowerCase();
}

function filePath(location: string): string {
  try {
    return fileURLToPath(new URL(location));
  } catch (err) {
    throw new BadInputError('BAD_STORE_LOCATION', `${location} is not a usable file URL`, {
      cause: err,
      hint: 'write file:///absolute/path (a file URL names no host), or a plain path',
    });
  }
}

/** Locations of future backends may carry credentials (user:secret@host, ?sig=): show scheme and host only. */
function redact(location: string): string {
  try {
    const url = new URL(location);
    return url.host === '' ? `${url.protocol}…` : `${url.protocol}//${url.host}/…`;
  } catch {
    return `${location.slice(0, location.indexOf(':') + 1)}…`;
  }
}

import { fileURLToPath } from 'node:url';
import { BadInputError } from '../errors/index.ts';
import { azureCredentialFromEnv } from './azure/credentials.ts';
import { parseAzureLocation } from './azure/location.ts';
import { LazyStore } from './cloud/lazy.ts';
import type { Env } from './cloud/secrets.ts';
import { FileStore } from './fs/index.ts';
import { MemoryStore } from './memory/index.ts';
import { s3ConnectionFromEnv } from './s3/credentials.ts';
import { parseS3Location } from './s3/location.ts';
import type { BlobStore } from './types.ts';

const SUPPORTED =
  'a directory path, file:///absolute/path, azure://ACCOUNT/CONTAINER[/PREFIX], s3://BUCKET[/PREFIX], memory: (for tests)';

/**
 * Opens the BlobStore a location names: a plain path (relative or absolute) or a
 * file:// URL is a FileStore; azure:// an AzureBlobStore, s3:// an S3BlobStore (their
 * URLs and credentials: ./azure/location.ts, ./s3/location.ts); "memory:" is a new,
 * empty MemoryStore. Nothing is created or contacted here: the URL and the credentials
 * (from `env`) are checked at once, the cloud SDK is loaded on first use. A URL that
 * carries a secret is refused (SECRET_IN_URL). Any other scheme is refused, naming it.
 */
export function openStore(location: string, env: Env = process.env): BlobStore {
  if (location === '') {
    throw new BadInputError('BAD_STORE_LOCATION', 'the storage location is empty', {
      hint: `use ${SUPPORTED}`,
    });
  }
  const scheme = schemeOf(location);
  if (scheme === undefined) return new FileStore(location);
  if (scheme === 'file') return new FileStore(filePath(location));
  if (scheme === 'memory') return new MemoryStore(location);
  if (scheme === 'azure') return openAzure(location, env);
  if (scheme === 's3') return openS3(location, env);
  throw new BadInputError(
    'UNSUPPORTED_STORE',
    `unsupported storage scheme "${scheme}:" in ${redact(location)}`,
    {
      hint: `use ${SUPPORTED} (write ./a:b for a relative path that contains a colon)`,
    },
  );
}

function openAzure(location: string, env: Env): BlobStore {
  const where = parseAzureLocation(location);
  const credential = azureCredentialFromEnv(env, where.account);
  return new LazyStore(where.display, async () => {
    const { AzureBlobStore } = await import('./azure/store.ts');
    return new AzureBlobStore(where, credential);
  });
}

function openS3(location: string, env: Env): BlobStore {
  const where = parseS3Location(location);
  const connection = s3ConnectionFromEnv(where, env);
  return new LazyStore(where.display, async () => {
    const { S3BlobStore } = await import('./s3/store.ts');
    return new S3BlobStore(where, connection);
  });
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

/** An unknown location may carry credentials (user:secret@host, ?sig=): show scheme and host only. */
function redact(location: string): string {
  try {
    const url = new URL(location);
    return url.host === '' ? `${url.protocol}…` : `${url.protocol}//${url.host}/…`;
  } catch {
    return `${location.slice(0, location.indexOf(':') + 1)}…`;
  }
}

import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BadInputError, isOffsiteError } from '../errors/index.ts';
import { parseAzureLocation } from './azure/location.ts';
import type { Env } from './cloud/secrets.ts';
import { openStore } from './open.ts';
import { parseS3Location } from './s3/location.ts';
import type { BlobStore } from './types.ts';

/** A storage region of the vault server, as given by `--region NAME=URL`. */
export interface RegionUrl {
  name: string;
  /** file:///abs/path (normalised), or the azure:// or s3:// URL as given (it holds no secret). */
  url: string;
  /**
   * Opens the region's store, reading the credentials from the environment now. Not
   * wrapped in RetryStore: the caller decides the retry policy.
   */
  open(): BlobStore;
}

const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const HINT =
  'write NAME=URL with NAME of lowercase letters, digits and hyphens, and URL one of file:///absolute/path, ' +
  'azure://ACCOUNT/CONTAINER[/PREFIX][?endpoint=URL], s3://BUCKET[/PREFIX][?endpoint=URL&style=path|virtual&region=R]';

/**
 * Parses a region spec `NAME=URL` (file://, azure://, s3://). The URL is checked here
 * (shape, no secrets in it); the credentials only when the region is opened, so a
 * configuration can be checked where the credentials are not at hand. Messages never
 * repeat the spec (a mistaken one may hold a secret), only the region's name.
 */
export function parseRegionUrl(spec: string, env: Env = process.env): RegionUrl {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  if (eq < 0 || !REGION_NAME.test(name)) {
    throw new BadInputError('BAD_REGION', 'a region must be given as NAME=URL', { hint: HINT });
  }
  const url = checkedUrl(name, spec.slice(eq + 1));
  return { name, url, open: () => openStore(url, env) };
}

function checkedUrl(name: string, url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  try {
    if (scheme === 'file') return fileRegionUrl(name, url);
    if (scheme === 'azure') parseAzureLocation(url);
    else if (scheme === 's3') parseS3Location(url);
    else
      throw new BadInputError('BAD_REGION', `region ${name}: the URL must be file://, azure:// or s3://`, {
        hint: HINT,
      });
    return url;
  } catch (err) {
    if (!isOffsiteError(err) || err.message.startsWith(`region ${name}:`)) throw err;
    throw new BadInputError(err.code, `region ${name}: ${err.message}`, { hint: err.hint });
  }
}

function fileRegionUrl(name: string, url: string): string {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    throw new BadInputError('BAD_REGION', `region ${name}: not a usable file URL`, {
      hint: 'write file:///absolute/path (a file URL names no host)',
    });
  }
  if (!isAbsolute(path)) throw new BadInputError('BAD_REGION', `region ${name}: the path must be absolute`);
  return pathToFileURL(path).href;
}

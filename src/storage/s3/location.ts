import { KeyPrefix } from '../cloud/keys.ts';
import { badLocation, type CloudUrlRules, parseCloudUrl, parseEndpoint } from '../cloud/url.ts';

export const S3_CREDENTIAL_VARIABLES =
  'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN for temporary credentials), or their _FILE ' +
  'forms naming files that hold them; without them, the AWS SDK default chain (profiles, instance roles)';

export const S3_URL_RULES: CloudUrlRules = {
  scheme: 's3',
  usage:
    's3://BUCKET[/PREFIX][?endpoint=https://HOST[:PORT]&style=path|virtual&region=REGION&create-only=header|head|both]',
  params: ['endpoint', 'style', 'region', 'create-only'],
  credentials: S3_CREDENTIAL_VARIABLES,
};

/**
 * How put makes sure it never overwrites:
 * - header: PUT with If-None-Match: *; the service refuses an existing key atomically
 *   (AWS S3 since 2024, MinIO, Ceph RGW, Cloudflare R2, ...).
 * - head: HEAD, then a plain PUT if the key is missing, for services that reject the
 *   header (HTTP 501). Racy between processes; see S3BlobStore.
 * - both: HEAD, then PUT with If-None-Match: *. Atomic where the service honours the
 *   header, still checked where it silently ignores it (s3rver does).
 */
export type CreateOnlyMode = 'header' | 'head' | 'both';

/** Where an S3 store lives; nothing here is secret. */
export interface S3Location {
  bucket: string;
  prefix: KeyPrefix;
  /** A custom endpoint (MinIO, Ceph, a test server); undefined for AWS itself. */
  endpoint: string | undefined;
  /** Path style (https://HOST/BUCKET/KEY) or virtual-host style (https://BUCKET.HOST/KEY). */
  style: 'path' | 'virtual';
  /** From `region=`; undefined: the environment's AWS_REGION, else us-east-1. */
  region: string | undefined;
  createOnly: CreateOnlyMode;
  /** For messages and `location`. */
  display: string;
}

// AWS's bucket rules (3–63 lowercase letters, digits, dots and hyphens, a letter or
// digit at both ends); S3-compatible services accept a subset of names at most.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,40}$/;

/**
 * Parses s3://BUCKET[/PREFIX][?endpoint=URL&style=path|virtual&region=R&create-only=M].
 * Defaults: AWS itself, virtual-host style, create-only=header. With an endpoint, the
 * defaults are path style (what self-hosted services expect) and create-only=both (an
 * unknown service may ignore If-None-Match, and a silent overwrite is the one failure a
 * backup store must not have).
 */
export function parseS3Location(location: string): S3Location {
  const url = parseCloudUrl(location, S3_URL_RULES);
  if (!BUCKET.test(url.host) || url.host.includes('..')) {
    throw badLocation(`"${url.host}" in ${url.display} is not a bucket name`, S3_URL_RULES);
  }
  const prefix = new KeyPrefix(url.path);
  const rawEndpoint = url.params.get('endpoint');
  const endpoint =
    rawEndpoint === undefined ? undefined : parseEndpoint(rawEndpoint, url.display, S3_URL_RULES);
  const style = choice(url.params.get('style'), ['path', 'virtual'] as const, 'style', url.display);
  const createOnly = choice(
    url.params.get('create-only'),
    ['header', 'head', 'both'] as const,
    'create-only',
    url.display,
  );
  const region = url.params.get('region');
  if (region !== undefined && !REGION.test(region)) {
    throw badLocation(`the region of ${url.display} is not a region name`, S3_URL_RULES);
  }
  const base = `s3://${url.host}${prefix.suffix}`;
  return {
    bucket: url.host,
    prefix,
    endpoint,
    style: style ?? (endpoint === undefined ? 'virtual' : 'path'),
    region,
    createOnly: createOnly ?? (endpoint === undefined ? 'header' : 'both'),
    display: endpoint === undefined ? base : `${base}?endpoint=${endpoint}`,
  };
}

function choice<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  what: string,
  display: string,
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw badLocation(`${what} in ${display} must be ${allowed.join(' or ')}`, S3_URL_RULES);
}

import { BadInputError } from '../../errors/index.ts';
import { type Env, secretFromEnv } from '../cloud/secrets.ts';
import type { S3Location } from './location.ts';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What an S3BlobStore needs besides its location. */
export interface S3Connection {
  /** Undefined: the AWS SDK's default credential chain. */
  credentials: S3Credentials | undefined;
  region: string;
}

/** Credentials and region: the URL's region=, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
export function s3ConnectionFromEnv(where: S3Location, env: Env): S3Connection {
  const region = where.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1');
  return { credentials: s3CredentialsFromEnv(env), region };
}

/**
 * Static credentials from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * the optional AWS_SESSION_TOKEN, each also as *_FILE. Undefined when none is set: the
 * AWS SDK then uses its default chain (shared profiles, SSO, web identity, container
 * and instance roles), which is how most AWS deployments authenticate.
 */
export function s3CredentialsFromEnv(env: Env): S3Credentials | undefined {
  const accessKeyId = secretFromEnv(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = secretFromEnv(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = secretFromEnv(env, 'AWS_SESSION_TOKEN');
  if (accessKeyId === undefined && secretAccessKey === undefined) {
    if (sessionToken !== undefined) throw incomplete('AWS_SESSION_TOKEN is set alone');
    return undefined;
  }
  if (accessKeyId === undefined) throw incomplete('AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID');
  if (secretAccessKey === undefined)
    throw incomplete('AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY');
  return sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

function incomplete(message: string): BadInputError {
  return new BadInputError('INCOMPLETE_CREDENTIALS', message, {
    hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY together (or their _FILE forms)',
  });
}

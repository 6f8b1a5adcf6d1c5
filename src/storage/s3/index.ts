// The S3 BlobStore (AWS and S3-compatible services). Imports the AWS SDK, src/errors and
// the storage contract helpers; the server and the CLI reach it through openStore (../open.ts).
export {
  type S3Connection,
  type S3Credentials,
  s3ConnectionFromEnv,
  s3CredentialsFromEnv,
} from './credentials.ts';
export {
  type CreateOnlyMode,
  parseS3Location,
  S3_CREDENTIAL_VARIABLES,
  type S3Location,
} from './location.ts';
export { S3BlobStore, type S3StoreOptions } from './store.ts';

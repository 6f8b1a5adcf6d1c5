// The Azure Blob Storage BlobStore. Imports the Azure SDK, src/errors and the storage
// contract helpers; the server and the CLI reach it through openStore (../open.ts).
export { type AzureCredential, azureCredentialFromEnv } from './credentials.ts';
export { AZURE_CREDENTIAL_VARIABLES, type AzureLocation, parseAzureLocation } from './location.ts';
export { AzureBlobStore, type AzureStoreOptions, type SignedPut } from './store.ts';

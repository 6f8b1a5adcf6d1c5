// The HTTP backend: a BlobStore over the vault server's agent data API, used by a
// registered agent as the store of its repository in a vault (mutual TLS with its client
// certificate). Imports only node built-ins, src/errors and the rest of src/storage —
// never src/server: the wire protocol both ends share lives here, in ./protocol.ts.
export * as httpProtocol from './protocol.ts';
export { HttpBlobStore, type HttpStoreOptions } from './store.ts';

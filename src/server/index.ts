// The vault server's HTTP layer: node:https, our own router over a declarative route
// table (from which the OpenAPI document is generated), token authentication, the one
// error → HTTP status map, and a small HTTPS client for the CLI. This folder imports
// from vault, pki, storage, util and errors — never from cli.

export { hashToken, newToken } from './auth.ts';
export { bootstrap, dataFiles, parseRegion } from './bootstrap.ts';
export { type ClientOptions, ServerClient } from './client.ts';
export { errorBody, errorFromResponse, STATUS_BY_CODE, STATUS_BY_KIND, statusFor } from './http-status.ts';
export { parseListen } from './listen.ts';
export { routeTable } from './routes.ts';
export { type LogEntry, type Logger, type RunningServer, type ServerOptions, startServer } from './server.ts';
export type { Region, Route } from './types.ts';

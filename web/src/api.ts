// The console's only way to the server: the documented public API, same origin. The
// session is an HttpOnly cookie the browser sends by itself; every state-changing request
// also carries the session's CSRF token, which the server checks.

export type Role = 'reader' | 'operator' | 'contributor' | 'owner';

export interface Session {
  user: string;
  role: Role;
  expiresAt: string;
  csrfToken: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | undefined;
  constructor(status: number, code: string, message: string, hint?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

let csrfToken = '';
let onSignedOut: () => void = () => {};

export function setSessionToken(token: string, signedOut: () => void): void {
  csrfToken = token;
  onSignedOut = signedOut;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  return text === '' ? undefined : JSON.parse(text);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
  const data = (await parse(res)) as
    | (T & { error?: undefined })
    | { error: string; message: string; hint?: string };
  if (res.ok) return data as T;
  const err = (data ?? {}) as { error?: string; message?: string; hint?: string };
  if (res.status === 401 && !path.startsWith('/v1/console/session')) onSignedOut();
  throw new ApiError(res.status, err.error ?? 'HTTP_' + res.status, err.message ?? res.statusText, err.hint);
}

export const get = <T>(path: string) => api<T>('GET', path);

export function vaultPath(vault: string, rest = ''): string {
  return `/v1/vaults/${encodeURIComponent(vault)}${rest}`;
}

const RANK: Record<Role, number> = { reader: 0, operator: 1, contributor: 2, owner: 3 };

export function atLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export interface Vault {
  id: string;
  name: string;
  region: string;
  quotaBytes: number | null;
  softDeleteDays: number;
  immutable: boolean;
  createdAt: string;
}

export interface ServerInfo {
  id: string;
  name: string;
  via: string;
  certNotAfter: string;
  registeredAt: string;
  lastSeenAt: string | null;
}

export interface Point {
  id: string;
  server: string;
  time: string;
  state: 'active' | 'soft-deleted' | 'deleted';
  deleteAfter: string | null;
  bytesAdded: number;
  stats: { bytesProcessed: number; filesNew: number; filesChanged: number; filesUnmodified: number };
}

export interface Job {
  id: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed' | 'warning';
  server: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  bytes: number;
  error: string | null;
  skippedCount: number;
}

export interface JobDetail extends Job {
  skippedFiles: { path: string; error: string }[];
  skippedFilesOmitted: number;
}

export interface Alert {
  id: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  state: 'open' | 'acknowledged' | 'resolved';
  message: string;
  server: string | null;
  raisedAt: string;
  lastRaisedAt: string;
  occurrences: number;
}

export interface Breakdown {
  dataBytes: number;
  metadataBytes: number;
  compression: { rawBytes: number; storedBytes: number; savedBytes: number };
  dedup: { logicalBytes: number; addedBytes: number; savedBytes: number };
}

export interface UsageRow {
  day: string;
  server: string | null;
  protectedBytes: number;
  storedBytes: number;
}

export interface Usage {
  at: string;
  protectedBytes: number;
  storedBytes: number;
  breakdown: Breakdown;
  explanations: { key: string; bytes: number; text: string }[];
  servers: { server: string; protectedBytes: number; storedBytes: number }[];
  history: UsageRow[];
}

export interface Policy {
  version: 1;
  schedule: { times: string[]; days: 'daily' | string[]; timeZone: string };
  retention: { daily: number; weekly: number; monthly: number; yearly: number; last?: number };
}

export interface Certificate {
  id: string;
  fingerprint256: string;
  subject: string;
  notAfter: string;
  uploadedAt: string;
  revokedAt: string | null;
}

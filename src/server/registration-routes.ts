import { BadInputError } from '../errors/index.ts';
import type { CertificateRow, ServerRow } from '../vault/catalog/index.ts';
import {
  issueCredentials,
  registerWithCertificate,
  registerWithCredentials,
  uploadCertificate,
} from '../vault/registration.ts';
import type { RequestContext, Route, RouteResult, Schema } from './types.ts';
import { VAULT_SCHEMA, vaultJson, visibleVault } from './vault-routes.ts';

// Registration of protected servers: vault credentials files and uploaded certificates
// (admin side), and the two ways an agent registers with them.

const KIB = 1024;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function serverJson(s: ServerRow) {
  return {
    id: s.id,
    name: s.name,
    via: s.via,
    certFingerprint: s.certFingerprint,
    certNotAfter: iso(s.certNotAfter),
    registeredAt: iso(s.registeredAt),
    lastSeenAt: iso(s.lastSeenAt),
  };
}

function certificateJson(c: CertificateRow) {
  return {
    id: c.id,
    fingerprint256: c.fingerprint256,
    subject: c.subject,
    notAfter: iso(c.notAfter),
    uploadedAt: iso(c.uploadedAt),
    revokedAt: iso(c.revokedAt),
  };
}

export const SERVER_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    via: { enum: ['credentials', 'certificate'] },
    certFingerprint: { type: 'string' },
    certNotAfter: { type: 'string', format: 'date-time' },
    registeredAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const CERTIFICATE_SCHEMA: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    fingerprint256: { type: 'string' },
    subject: { type: 'string' },
    notAfter: { type: 'string', format: 'date-time' },
    uploadedAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

const CREDENTIALS_SCHEMA: Schema = {
  type: 'object',
  description: 'A vault credentials file: valid 48 hours, single use, only the newest is valid',
  properties: {
    kind: { const: 'offsite-vault-credentials' },
    version: { const: 1 },
    server: { type: 'string' },
    vault: { type: 'object' },
    caPem: { type: 'string' },
    secret: { type: 'string' },
    issuedAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
};

function fields(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', `send a JSON object ${what}`);
  }
  return body as Record<string, unknown>;
}

async function createCredentials(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  if (vault.deletedAt !== null)
    throw new BadInputError('VAULT_DELETED', `the vault "${vault.name}" is deleted`);
  const { services } = ctx;
  const file = await issueCredentials(services.catalog, vault, {
    serverUrl: services.publicUrl,
    caPem: services.ca.certPem,
    now: services.now(),
  });
  return { status: 201, body: file };
}

/** PEM text, or DER as base64 (a binary .cer file). */
function certificateBytes(body: unknown): Buffer {
  const { certificate } = fields(body, '{certificate}');
  if (typeof certificate !== 'string' || certificate.length === 0) {
    throw new BadInputError('BAD_FIELD', 'certificate: the PEM text, or the DER bytes in base64');
  }
  return certificate.includes('-----BEGIN')
    ? Buffer.from(certificate, 'utf8')
    : Buffer.from(certificate, 'base64');
}

async function addCertificate(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const row = await uploadCertificate(
    ctx.services.catalog,
    vault,
    certificateBytes(ctx.body),
    ctx.services.now(),
  );
  return { status: 201, body: certificateJson(row) };
}

async function listCertificates(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const rows = await ctx.services.catalog.listCertificates(vault.id);
  return { body: { certificates: rows.map(certificateJson) } };
}

async function revokeCertificate(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const rows = await ctx.services.catalog.listCertificates(vault.id);
  const row = rows.find((c) => c.id === ctx.params.id || c.fingerprint256 === ctx.params.id);
  if (!row)
    throw new BadInputError('CERT_UNKNOWN', `the vault "${vault.name}" has no certificate ${ctx.params.id}`);
  const revoked = await ctx.services.catalog.revokeCertificate(row.id, ctx.services.now());
  return { body: certificateJson(revoked) };
}

async function listServers(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const rows = await ctx.services.catalog.listServers(vault.id);
  return { body: { servers: rows.map(serverJson) } };
}

async function registerByCredentials(ctx: RequestContext): Promise<RouteResult> {
  const input = fields(ctx.body, '{secret, publicKey, name}');
  const { services } = ctx;
  const now = services.now();
  const keys = [`register-ip:${ctx.request.socket.remoteAddress}`];
  const { server, vault, certPem } = await services.limits.guard(keys, now, () =>
    registerWithCredentials(
      services.catalog,
      services.regionStore,
      services.ca,
      { secret: input.secret, publicKey: input.publicKey, name: input.name },
      now,
    ),
  );
  return { status: 201, body: { server: serverJson(server), vault: vaultJson(vault), certificate: certPem } };
}

async function registerByCertificate(ctx: RequestContext): Promise<RouteResult> {
  const input = fields(ctx.body, '{vault, name}');
  const { services } = ctx;
  const { server, vault } = await registerWithCertificate(
    services.catalog,
    services.regionStore,
    ctx.peer!,
    { vault: input.vault, name: input.name },
    services.now(),
  );
  return { status: 201, body: { server: serverJson(server), vault: vaultJson(vault) } };
}

const REGISTERED: Schema = {
  type: 'object',
  properties: { server: SERVER_SCHEMA, vault: VAULT_SCHEMA, certificate: { type: 'string' } },
};

export const REGISTRATION_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/vaults/:name/credentials',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Issue a vault credentials file (48 h, single use); earlier files stop working',
    tag: 'registration',
    response: { status: 201, schema: CREDENTIALS_SCHEMA },
    handler: createCredentials,
  },
  {
    method: 'POST',
    path: '/v1/vaults/:name/certificates',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 128 * KIB,
    summary: 'Upload a client certificate; each broken rule (v3, key, EKU, validity) is named',
    tag: 'registration',
    requestBody: {
      type: 'object',
      required: ['certificate'],
      properties: { certificate: { type: 'string', description: 'PEM, or DER in base64' } },
    },
    response: { status: 201, schema: CERTIFICATE_SCHEMA },
    handler: addCertificate,
  },
  {
    method: 'GET',
    path: '/v1/vaults/:name/certificates',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List the uploaded certificates of a vault',
    tag: 'registration',
    response: { status: 200, schema: { type: 'object', properties: { certificates: { type: 'array' } } } },
    handler: listCertificates,
  },
  {
    method: 'POST',
    path: '/v1/vaults/:name/certificates/:id/revoke',
    auth: 'token',
    minRole: 'contributor',
    bodyLimit: 0,
    summary: 'Revoke an uploaded certificate (by id or SHA-256 fingerprint): its agent is refused at once',
    tag: 'registration',
    response: { status: 200, schema: CERTIFICATE_SCHEMA },
    handler: revokeCertificate,
  },
  {
    method: 'GET',
    path: '/v1/vaults/:name/servers',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: 'List the servers registered with a vault',
    tag: 'registration',
    response: {
      status: 200,
      schema: { type: 'object', properties: { servers: { type: 'array', items: SERVER_SCHEMA } } },
    },
    handler: listServers,
  },
  {
    method: 'POST',
    path: '/v1/register',
    auth: 'public',
    bodyLimit: 16 * KIB,
    summary: 'Register a server with a vault credentials file: the vault certifies the agent public key',
    tag: 'registration',
    requestBody: {
      type: 'object',
      required: ['secret', 'publicKey', 'name'],
      properties: { secret: { type: 'string' }, publicKey: { type: 'string' }, name: { type: 'string' } },
    },
    response: { status: 201, schema: REGISTERED },
    handler: registerByCredentials,
  },
  {
    method: 'POST',
    path: '/v1/agent/register',
    auth: 'client-cert',
    bodyLimit: 4 * KIB,
    summary: 'Register the holder of an uploaded client certificate with its vault',
    tag: 'registration',
    requestBody: {
      type: 'object',
      required: ['vault', 'name'],
      properties: { vault: { type: 'string' }, name: { type: 'string' } },
    },
    response: { status: 201, schema: REGISTERED },
    handler: registerByCertificate,
  },
];

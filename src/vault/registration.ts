import { createHash, createPublicKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { AuthError, BadInputError } from '../errors/index.ts';
import { assertUploadable, certificateFingerprint, issueCertificate } from '../pki/index.ts';
import type { BlobStore } from '../storage/index.ts';
import type { Catalog, CertificateRow, ServerRow, VaultRow } from './catalog/index.ts';
import { saveServerRecord } from './records.ts';

// Registering protected servers with a vault, two ways (DESIGN.md §4): a vault
// credentials file (the agent makes its key pair and the vault's CA certifies it), or a
// certificate an administrator uploaded (the agent proves it holds the key in the TLS
// handshake). Either way the catalog pins the certificate's fingerprint to one server.

export const CREDENTIALS_VALID_MS = 48 * 3_600_000;
/** Issued agent certificates; the agent renews when a third of the life is left. */
export const AGENT_CERT_DAYS = 90;
const DAY_MS = 86_400_000;
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** What `vault credentials NAME --out FILE` writes: everything an agent needs to register. */
export interface CredentialsFile {
  kind: 'offsite-vault-credentials';
  version: 1;
  server: string;
  vault: { id: string; name: string };
  /** The vault server's CA: the agent trusts nothing else. */
  caPem: string;
  /** Single use; the catalog keeps only its SHA-256. */
  secret: string;
  issuedAt: string;
  expiresAt: string;
}

export interface Authority {
  certPem: string;
  keyPem: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export async function issueCredentials(
  catalog: Catalog,
  vault: VaultRow,
  options: { serverUrl: string; caPem: string; now: number },
): Promise<CredentialsFile> {
  const secret = randomBytes(32).toString('base64url');
  const row = await catalog.issueCredentials({
    vaultId: vault.id,
    secretHash: sha256(secret),
    issuedAt: options.now,
    expiresAt: options.now + CREDENTIALS_VALID_MS,
  });
  return {
    kind: 'offsite-vault-credentials',
    version: 1,
    server: options.serverUrl,
    vault: { id: vault.id, name: vault.name },
    caPem: options.caPem,
    secret,
    issuedAt: new Date(row.issuedAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
  };
}

export function checkServerName(name: unknown): string {
  if (typeof name !== 'string' || !SERVER_NAME.test(name)) {
    throw new BadInputError(
      'BAD_SERVER_NAME',
      'a server name is 1 to 63 letters, digits, dots, hyphens or underscores',
      {
        hint: 'give --name NAME (the default is the host name)',
      },
    );
  }
  return name;
}

/** The agent's public key: RSA of 2048 bits or more, or EC P-256 / P-384 / P-521. */
export function checkPublicKey(pem: unknown): KeyObject {
  let key: KeyObject;
  try {
    if (typeof pem !== 'string') throw new Error('not text');
    key = createPublicKey(pem);
  } catch {
    throw new BadInputError('BAD_PUBLIC_KEY', 'publicKey is not a PEM public key (SPKI)');
  }
  const details = key.asymmetricKeyDetails ?? {};
  const strong =
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    (key.asymmetricKeyType === 'ec' &&
      ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? ''));
  if (!strong) {
    throw new BadInputError(
      'WEAK_PUBLIC_KEY',
      'the agent key must be RSA of 2048 bits or more, or EC P-256 or larger',
    );
  }
  return key;
}

function issueAgentCertificate(ca: Authority, key: KeyObject, commonName: string, now: number): string {
  return issueCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    publicKey: key,
    commonName,
    usage: 'client',
    validDays: AGENT_CERT_DAYS,
    now: new Date(now),
  });
}

function notAfter(certPem: string): number {
  return Date.parse(new X509Certificate(certPem).validTo);
}

export interface Registration {
  server: ServerRow;
  vault: VaultRow;
  /** The issued client certificate (credentials registration only). */
  certPem?: string;
}

/**
 * Consumes the credentials file and registers the server, or re-registers it when the
 * vault already has a server of that name (a reinstalled machine keeps its history and its
 * repository; the old certificate stops working at once). All in one transaction: a
 * refused file changes nothing.
 */
export async function registerWithCredentials(
  catalog: Catalog,
  region: (name: string) => BlobStore,
  ca: Authority,
  input: { secret: unknown; publicKey: unknown; name: unknown },
  now: number,
): Promise<Registration> {
  if (typeof input.secret !== 'string' || input.secret.length > 200) {
    throw new BadInputError('BAD_CREDENTIALS', 'secret must be the secret of a vault credentials file');
  }
  const name = checkServerName(input.name);
  const key = checkPublicKey(input.publicKey);
  const registration = await catalog.transaction(async (tx) => {
    const credentials = await tx.consumeCredentials(sha256(input.secret as string), now);
    const vault = await tx.getVault(credentials.vaultId);
    if (vault.deletedAt !== null)
      throw new AuthError('VAULT_DELETED', `the vault "${vault.name}" was deleted`);
    const certPem = issueAgentCertificate(ca, key, name, now);
    const cert = { certFingerprint: certificateFingerprint(certPem), certNotAfter: notAfter(certPem) };
    const existing = (await tx.listServers(vault.id)).find((s) => s.name === name);
    const server = existing
      ? await tx.renewServerCertificate(existing.id, cert)
      : await tx.registerServer({ vaultId: vault.id, name, ...cert, via: 'credentials', registeredAt: now });
    return { server, vault, certPem };
  });
  await saveServerRecord(region(registration.vault.region), registration.server, now);
  return registration;
}

/** The uploaded certificate the agent presented, checked against the vault it names. */
async function usableUpload(catalog: Catalog, fingerprint: string, vault: VaultRow, now: number) {
  const uploaded = await catalog.findCertificate(fingerprint);
  const hint = `upload the certificate with \`offsite vault cert upload ${vault.name} FILE\` first`;
  if (!uploaded || uploaded.vaultId !== vault.id) {
    throw new AuthError(
      'CERT_NOT_UPLOADED',
      `this certificate was not uploaded to the vault "${vault.name}"`,
      {
        hint,
      },
    );
  }
  if (uploaded.revokedAt !== null)
    throw new AuthError('CERT_REVOKED', 'this certificate was revoked', { hint });
  if (!(now < uploaded.notAfter))
    throw new AuthError('CERT_EXPIRED', 'this certificate has expired', { hint });
  return uploaded;
}

/** Registers the holder of an uploaded certificate; registering again is a no-op. */
export async function registerWithCertificate(
  catalog: Catalog,
  region: (name: string) => BlobStore,
  peer: { fingerprint256: string },
  input: { vault: unknown; name: unknown },
  now: number,
): Promise<Registration> {
  if (typeof input.vault !== 'string') throw new BadInputError('BAD_FIELD', 'vault: the vault name');
  const name = checkServerName(input.name);
  const vault = await catalog.getVaultByName(input.vault);
  if (vault.deletedAt !== null) throw new AuthError('VAULT_DELETED', `the vault "${vault.name}" was deleted`);
  const uploaded = await usableUpload(catalog, peer.fingerprint256, vault, now);
  const known = await catalog.findServerByFingerprint(peer.fingerprint256);
  if (known) return { server: known, vault };
  const server = await catalog.registerServer({
    vaultId: vault.id,
    name,
    certFingerprint: uploaded.fingerprint256,
    certNotAfter: uploaded.notAfter,
    via: 'certificate',
    registeredAt: now,
  });
  await saveServerRecord(region(vault.region), server, now);
  return { server, vault };
}

/** A fresh certificate for a credentials-registered agent (its key may be new too). */
export async function renewAgentCertificate(
  catalog: Catalog,
  region: (name: string) => BlobStore,
  ca: Authority,
  server: ServerRow,
  vault: VaultRow,
  publicKey: unknown,
  now: number,
): Promise<{ server: ServerRow; certPem: string }> {
  if (server.via !== 'credentials') {
    throw new BadInputError(
      'CANNOT_RENEW_UPLOADED',
      'an uploaded certificate is renewed by uploading a new one',
      {
        hint: 'upload a new certificate to the vault and register the agent with it',
      },
    );
  }
  const certPem = issueAgentCertificate(ca, checkPublicKey(publicKey), server.name, now);
  const renewed = await catalog.renewServerCertificate(server.id, {
    certFingerprint: certificateFingerprint(certPem),
    certNotAfter: notAfter(certPem),
  });
  await saveServerRecord(region(vault.region), renewed, now);
  return { server: renewed, certPem };
}

/** Checks every upload rule (each broken one is named) and records the certificate. */
export async function uploadCertificate(
  catalog: Catalog,
  vault: VaultRow,
  bytes: Buffer,
  now: number,
): Promise<CertificateRow> {
  const cert = assertUploadable(bytes, new Date(now));
  const known = await catalog.findCertificate(cert.fingerprint256);
  if (known) {
    throw new BadInputError('CERT_ALREADY_UPLOADED', 'this certificate was uploaded already', {
      hint: 'each certificate identifies one server; make another with `offsite cert create`',
    });
  }
  return catalog.addCertificate({
    vaultId: vault.id,
    fingerprint256: cert.fingerprint256,
    subject: cert.subject,
    notAfter: cert.notAfter.getTime(),
    uploadedAt: now,
  });
}

/** When an agent should renew: a third of its certificate's life left. */
export function renewalDue(notBefore: number, notAfterMs: number, now: number): boolean {
  return now >= notAfterMs - (notAfterMs - notBefore) / 3 || notAfterMs - now < DAY_MS;
}
